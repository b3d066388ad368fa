"""One way to read the shipped data files (YAML checked by a pydantic model) and one error that names the file
and the bad entry; plus the one "label is in the vocabulary" check the models share."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from assist.errors import AssistError

M = TypeVar("M", bound=BaseModel)


class DataFileInvalid(AssistError):
    """A data file (language manifest, lexicon, rule, cue, slot or rerank file) is missing or malformed."""

    status, code = 500, "data_file_invalid"


def check_labels(values: Iterable[str], allowed: Iterable[str] | Mapping[str, Any], what: str) -> list[str]:
    """`values` without repeats, or a ValueError naming the unknown ones and what is allowed."""
    allowed = tuple(allowed)
    values = list(values)
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} {', '.join(map(repr, unknown))}; allowed: {', '.join(allowed)}")
    return list(dict.fromkeys(values))


def check_regex(value: str) -> str:
    """`value` if it compiles as a regular expression, else a ValueError naming it."""
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"bad regular expression {value!r}: {exc}") from exc
    return value


def where(path: Traversable | Path) -> str:
    """How an error names a file: its path, shortened to start at the package or language folder."""
    text = str(path)
    for marker in ("/assist/", "/languages/"):
        if marker in text:
            return text[text.rindex(marker) + 1 :]
    return text


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Traversable | Path, *, required: bool = True) -> Any:
    """The file's YAML; None when it is absent and not `required`."""
    if not path.is_file():
        if required:
            raise DataFileInvalid(f"data file missing: {where(path)}", file=where(path))
        return None
    try:
        # libyaml's loader when PyYAML has it: the same data, about 8x faster (the service reads these files
        # on every start: 0.30 s of pure-Python parsing for the shipped ones, 0.04 s this way).
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise DataFileInvalid(f"{where(path)}: not valid YAML: {exc}", file=where(path)) from exc


def entry_names(raw: Any, exc: ValidationError, key: str = "id") -> list[str]:
    """The entries the errors are in, by their `key` (`entries.3` means little to a curator) or their mapping
    key (situation, slot name)."""
    names = []
    for err in exc.errors():
        loc = err["loc"]
        try:
            if len(loc) >= 2 and isinstance(raw, dict) and isinstance(loc[1], int):
                names.append(str(raw[loc[0]][loc[1]][key]))
            elif len(loc) >= 1 and isinstance(raw, list) and isinstance(loc[0], int):
                names.append(str(raw[loc[0]][key]))
        except (KeyError, IndexError, TypeError):
            continue
    return list(dict.fromkeys(names))


def validate(raw: Any, model: type[M], path: Traversable | Path | str, entry: str | None = None) -> M:
    """`raw` checked by `model`; errors name the file and the entry (given, or found by id)."""
    name = path if isinstance(path, str) else where(path)
    try:
        return model.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        entries = [entry] if entry else entry_names(raw, exc)
        label = f"entry {', '.join(entries)}: " if entries else ""
        raise DataFileInvalid(f"{name}: {label}{exc}", file=name, entry=", ".join(entries) or None) from exc


def load(path: Traversable | Path, model: type[M], *, required: bool = True) -> M:
    """Read one YAML file and check it with `model`; an absent optional file gives the model's defaults."""
    return validate(read_yaml(path, required=required), model, path)


def load_mapping(path: Traversable | Path, model: type[M], *, required: bool = True) -> dict[str, M]:
    """A file that maps names (situations, slots) to entries of `model`; errors name the entry."""
    raw = read_yaml(path, required=required) or {}
    if not isinstance(raw, dict):
        raise DataFileInvalid(f"{where(path)}: expected a mapping of names to entries", file=where(path))
    return {str(name): validate(body, model, path, entry=str(name)) for name, body in raw.items()}
