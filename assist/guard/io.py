"""Import and export of guard rules as YAML, CSV and JSONL, like phrases (assist.bank.io): the same decoding
(UTF-8, UTF-8 with BOM, UTF-16, GBK), line numbers in errors, all-or-nothing checks."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import yaml
from pydantic import ValidationError

from assist.bank.io import FORMATS, MEDIA_TYPES, RowError, _reason, guess_format, read_rows
from assist.guard.schema import RULE_FIELDS, GuardRuleIn

__all__ = ["CSV_COLUMNS", "FORMATS", "MEDIA_TYPES", "GuardParsed", "dump", "guess_format", "parse"]

CSV_COLUMNS = ("key", *RULE_FIELDS, "status", "source_seed", "source_principle")
LIST_COLUMNS = ("phrases", "exceptions", "triggers", "teams", "langs")
SEPARATOR = "|"


class GuardParsed:
    def __init__(self, encoding: str = "utf-8") -> None:
        self.entries: list[GuardRuleIn] = []
        self.errors: list[RowError] = []
        self.encoding = encoding


def _csv_rows(text: str) -> tuple[list[tuple[int | None, Any]], list[RowError]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown or not header:
        raise ValueError(
            f"unknown CSV column(s) {', '.join(map(repr, unknown)) or '(none found)'}; "
            f"the columns are {', '.join(CSV_COLUMNS)}"
        )
    rows: list[tuple[int | None, Any]] = []
    errors: list[RowError] = []
    line = 2
    for record in reader:
        at, line = line, reader.line_num + 1
        if None in record:
            errors.append(RowError(at, f"{len(record[None])} more field(s) than the header has"))
            continue
        values = {k: (v or "").strip() for k, v in record.items()}
        if not any(values.values()):
            continue
        entry: dict[str, Any] = {}
        for name, value in values.items():
            if not value or name in ("source_seed", "source_principle"):
                continue
            entry[name] = [v.strip() for v in value.split(SEPARATOR) if v.strip()] if name in LIST_COLUMNS else value
        if values.get("source_seed") or values.get("source_principle"):
            entry["source"] = {"seed": values.get("source_seed", ""), "principle": values.get("source_principle", "")}
        rows.append((at, entry))
    return rows, errors


def parse(data: bytes, fmt: str) -> GuardParsed:
    """Parse and validate a whole file of rules; `errors` lists every bad row with its line number."""
    rows, errors, encoding = read_rows(data, fmt, _csv_rows, "rule list")
    parsed = GuardParsed(encoding)
    parsed.errors = errors
    seen: dict[str, int | None] = {}
    for line, raw in rows:
        if not isinstance(raw, dict):
            parsed.errors.append(RowError(line, "expected a mapping of rule fields"))
            continue
        key = raw.get("key") if isinstance(raw.get("key"), str) else None
        try:
            entry = GuardRuleIn.model_validate(raw)
        except ValidationError as exc:
            parsed.errors.append(RowError(line, _reason(exc), key))
            continue
        if entry.key is not None:
            if entry.key in seen:
                parsed.errors.append(RowError(line, f"duplicate key {entry.key!r} (first on line {seen[entry.key]})"))
                continue
            seen[entry.key] = line
        parsed.entries.append(entry)
    return parsed


def _clean(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if v not in (None, [], {}) or k in ("key", "phrases")}


def dump(entries: list[dict[str, Any]], fmt: str) -> str:
    """Serialize entries (GuardRuleIn shape) in one of FORMATS."""
    if fmt == "yaml":
        return yaml.safe_dump([_clean(e) for e in entries], allow_unicode=True, sort_keys=False, width=1000)
    if fmt == "jsonl":
        return "".join(json.dumps(_clean(e), ensure_ascii=False) + "\n" for e in entries)
    if fmt == "csv":
        out = io.StringIO(newline="")
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        for e in entries:
            row = {name: SEPARATOR.join(e.get(name) or []) for name in LIST_COLUMNS}
            for name in ("key", "kind", "category", "severity", "when", "why", "status"):
                row[name] = e.get(name) or ""
            row["reply"] = "" if e.get("reply") is None else str(e["reply"])
            source = e.get("source") or {}
            row.update(source_seed=source.get("seed", ""), source_principle=source.get("principle", ""))
            writer.writerow(row)
        return out.getvalue()
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
