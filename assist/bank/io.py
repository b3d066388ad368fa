"""Import and export of phrases as YAML, CSV and JSONL: parsing with line numbers, all-or-nothing checks."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError

from assist.bank.schema import PhraseIn
from assist.languages import registry

FORMATS = ("yaml", "csv", "jsonl")
FIELD_COLUMNS = (
    "situations",
    "emotions",
    "customer_types",
    "technique",
    "teams",
    "status",
    "source_seed",
    "source_principle",
)


EXAMPLE_PREFIX = "examples_"  # a CSV column per language: examples_zh-Hans, …, one example per line in the cell


def csv_columns() -> tuple[str, ...]:
    """key, a text column per registered language code (assist.languages), the fields, then an examples
    column per language code."""
    codes = registry().codes
    return ("key", *codes, *FIELD_COLUMNS, *(EXAMPLE_PREFIX + code for code in codes))


LIST_COLUMNS = ("situations", "emotions", "customer_types", "teams")
LIST_SEPARATOR = "|"
_EXTENSIONS = {
    "yaml": "yaml",
    "yml": "yaml",
    "csv": "csv",
    "tsv": "csv",
    "txt": "csv",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "json": "jsonl",
}


@dataclass(slots=True)
class RowError:
    line: int | None
    reason: str
    key: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "key": self.key, "reason": self.reason}


@dataclass(slots=True)
class Parsed:
    entries: list[PhraseIn] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    encoding: str = "utf-8"


def guess_format(filename: str | None) -> str | None:
    if not filename or "." not in filename:
        return None
    return _EXTENSIONS.get(filename.rsplit(".", 1)[1].lower())


def decode(data: bytes) -> tuple[str, str]:
    """Text and the encoding used: UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030 (GBK's superset,
    what Excel writes for "CSV" on a Chinese Windows)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    save_as = "save it as 'CSV UTF-8' (Excel: File > Save As > CSV UTF-8) and import again"
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the file is neither UTF-8 nor GBK/GB18030; {save_as}") from exc
    if not _reads_as_chinese(text):
        western = ""
        try:
            data.decode("cp1252")
            western = " It looks like Windows-1252 (Western European, e.g. 'ü' or 'é');"
        except UnicodeDecodeError:
            pass
        raise ValueError(
            f"the file is not UTF-8, and read as GBK/GB18030 it gives characters no Chinese text uses.{western} "
            f"{save_as}"
        )
    return text, "gb18030"


def _plausible(ch: str) -> bool:
    """A character a Chinese customer-service text holds: ASCII, CJK or general punctuation, full-width forms, or
    a character of the common Simplified (GB2312) or Traditional (Big5) repertoires."""
    o = ord(ch)
    if o < 128 or 0x2000 <= o <= 0x206F or 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF:
        return True
    for encoding in ("gb2312", "big5"):
        try:
            ch.encode(encoding)
            return True
        except UnicodeEncodeError:
            pass
    return False


def _reads_as_chinese(text: str) -> bool:
    """Whether GB18030-decoded text is Chinese and not another 8-bit encoding that happens to decode: a Western
    letter (0x80-0xFF) followed by an ASCII letter is a valid GBK pair, but lands on rare or private-use
    characters. At most 1 in 10 of the non-ASCII characters may fall outside the common repertoires."""
    wide = [ch for ch in text if ord(ch) >= 128]
    odd = sum(not _plausible(ch) for ch in wide)
    return odd * 10 <= len(wide)


def _reason(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        where = ".".join(str(x) for x in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def _validate_rows(rows: Iterable[tuple[int | None, Any]], parsed: Parsed) -> Parsed:
    seen: dict[str, int | None] = {}
    for line, raw in rows:
        key = raw.get("key") if isinstance(raw, dict) else None
        if not isinstance(raw, dict):
            parsed.errors.append(RowError(line, "expected a mapping of phrase fields"))
            continue
        try:
            entry = PhraseIn.model_validate(raw)
        except ValidationError as exc:
            parsed.errors.append(RowError(line, _reason(exc), key if isinstance(key, str) else None))
            continue
        if entry.key is not None:
            if entry.key in seen:
                parsed.errors.append(
                    RowError(line, f"duplicate key {entry.key!r} (first on line {seen[entry.key]})", entry.key)
                )
                continue
            seen[entry.key] = line
        parsed.entries.append(entry)
    return parsed


def _yaml_rows(text: str) -> list[tuple[int | None, Any]]:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return []
        if not isinstance(root, yaml.SequenceNode):
            raise ValueError("a YAML import is a list of phrases (each item starting with '- ')")
        return [(node.start_mark.line + 1, loader.construct_object(node, deep=True)) for node in root.value]
    finally:
        loader.dispose()


def _jsonl_rows(text: str) -> tuple[list[tuple[int | None, Any]], list[RowError]]:
    rows: list[tuple[int | None, Any]] = []
    errors: list[RowError] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append((n, json.loads(line)))
        except json.JSONDecodeError as exc:
            errors.append(RowError(n, f"invalid JSON: {exc.msg} at column {exc.colno}"))
    return rows, errors


def _csv_rows(text: str) -> tuple[list[tuple[int | None, Any]], list[RowError]]:
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    columns = csv_columns()
    unknown = [h for h in header if h not in columns]
    if unknown or not header:
        raise ValueError(
            f"unknown CSV column(s) {', '.join(map(repr, unknown)) or '(none found)'}; "
            f"the columns are {', '.join(columns)}"
        )
    rows: list[tuple[int | None, Any]] = []
    errors: list[RowError] = []
    start = 2
    width = len(header)
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # strict: a quote open at the end of the file, or text after a closing one
            errors.append(
                RowError(start, f"bad quoting from this row on ({exc}): a quote is never closed, or text follows one")
            )
            break
        line = start
        start = reader.line_num + 1
        swallowed = _swallowed_row(record, delimiter, width)
        if swallowed is not None:
            errors.append(
                RowError(
                    line,
                    f"a quote opened on this row is not closed before the next row (line {line + swallowed}); "
                    "close it, or double the quote character inside a quoted field",
                )
            )
            continue
        if None in record:
            errors.append(RowError(line, f"{len(record[None])} more field(s) than the header has"))
            continue
        values = {k: (v or "").strip() for k, v in record.items()}
        if not any(values.values()):
            continue
        rows.append((line, _csv_entry(values)))
    return rows, errors


def _swallowed_row(record: dict[Any, Any], delimiter: str, width: int) -> int | None:
    """When a quoted field runs over a line break into what reads as a whole row of its own (as many
    delimiters as the header has, less one), the quote was left open: the offset of that line, else None."""
    for value in record.values():
        if not isinstance(value, str) or "\n" not in value:
            continue
        for n, part in enumerate(value.split("\n")[1:], start=1):
            if width > 1 and part.count(delimiter) >= width - 1:
                return n
    return None


def _csv_entry(values: dict[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"text": {lang: values[lang] for lang in registry().codes if values.get(lang)}}
    for name in LIST_COLUMNS:
        if name in values:
            entry[name] = [v.strip() for v in values[name].split(LIST_SEPARATOR) if v.strip()]
    for name in ("key", "technique", "status"):
        if values.get(name):
            entry[name] = values[name]
    examples = {
        lang: values[EXAMPLE_PREFIX + lang].split("\n")
        for lang in registry().codes
        if values.get(EXAMPLE_PREFIX + lang)
    }
    if examples:
        entry["examples"] = examples
    if values.get("source_seed") or values.get("source_principle"):
        entry["source"] = {"seed": values.get("source_seed", ""), "principle": values.get("source_principle", "")}
    return entry


RawRows = list[tuple[int | None, Any]]


def read_rows(
    data: bytes, fmt: str, csv_rows: Callable[[str], tuple[RawRows, list[RowError]]], what: str
) -> tuple[RawRows, list[RowError], str]:
    """Decode an import file and split it into `(line, raw row)` by format (`csv_rows` reads the caller's CSV
    columns); rows that cannot be read are errors beside the rows, a file that cannot be read at all is one
    error and no rows. `what` names the file's content in that error ("phrase list"). Also the encoding."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    try:
        text, encoding = decode(data)
    except ValueError as exc:
        return [], [RowError(None, str(exc))], "utf-8"
    text = text.replace("\r\n", "\n")
    try:
        if fmt == "yaml":
            return _yaml_rows(text), [], encoding
        if fmt == "jsonl":
            return (*_jsonl_rows(text), encoding)
        return (*csv_rows(text), encoding)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        detail = " ".join(str(exc).split())  # PyYAML names the construct, its start and the problem
        return [], [RowError(line, f"invalid YAML: {detail}")], encoding
    except ValueError as exc:
        return [], [RowError(1 if fmt == "csv" else None, str(exc))], encoding
    except csv.Error as exc:
        return [], [RowError(None, f"invalid CSV: {exc}")], encoding
    except RecursionError:
        return [], [RowError(None, f"the {fmt.upper()} file is nested too deeply to be a {what}")], encoding


def parse(data: bytes, fmt: str) -> Parsed:
    """Parse and validate a whole import file. `errors` lists every bad row with its line number."""
    rows, errors, encoding = read_rows(data, fmt, _csv_rows, "phrase list")
    return _validate_rows(rows, Parsed(errors=errors, encoding=encoding))


def _clean(entry: dict[str, Any]) -> dict[str, Any]:
    """Drop empty optional fields so exports stay short; import restores the same defaults."""
    return {k: v for k, v in entry.items() if v not in (None, [], {}) or k in ("key", "text")}


def dump(entries: list[dict[str, Any]], fmt: str) -> str:
    """Serialize entries (PhraseIn shape) in one of FORMATS."""
    if fmt == "yaml":
        return yaml.safe_dump([_clean(e) for e in entries], allow_unicode=True, sort_keys=False, width=1000)
    if fmt == "jsonl":
        return "".join(json.dumps(_clean(e), ensure_ascii=False) + "\n" for e in entries)
    if fmt == "csv":
        out = io.StringIO(newline="")
        writer = csv.DictWriter(out, fieldnames=csv_columns(), lineterminator="\r\n")
        writer.writeheader()
        for e in entries:
            row = {lang: e["text"].get(lang, "") for lang in registry().codes}
            row.update({name: LIST_SEPARATOR.join(e.get(name) or []) for name in LIST_COLUMNS})
            row.update(key=e["key"], technique=e.get("technique") or "", status=e.get("status") or "")
            source = e.get("source") or {}
            row.update(source_seed=source.get("seed", ""), source_principle=source.get("principle", ""))
            examples = e.get("examples") or {}
            row.update({EXAMPLE_PREFIX + lang: "\n".join(examples.get(lang, [])) for lang in registry().codes})
            writer.writerow(row)
        return out.getvalue()
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


MEDIA_TYPES = {"yaml": "application/yaml", "csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl"}
