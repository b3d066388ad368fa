"""The shipped guard rules: `guard.yml` in each language folder (assist/languages/<name>/guard.yml)."""

from __future__ import annotations

from pydantic import RootModel

from assist import datafile
from assist.datafile import DataFileInvalid
from assist.guard.schema import ShippedRule
from assist.languages import registry

GUARD_FILE = "guard.yml"


class _Rules(RootModel[list[ShippedRule]]):
    pass


def load_shipped() -> list[ShippedRule]:
    """Every language's shipped rules, in language order; keys are unique across languages."""
    out: list[ShippedRule] = []
    seen: dict[str, str] = {}
    for lg, path in registry().data(GUARD_FILE):
        raw = datafile.read_yaml(path) or []
        for entry in raw if isinstance(raw, list) else ():
            if isinstance(entry, dict):
                entry.setdefault("langs", list(lg.codes))  # a language's rules apply to its drafts
        rules = datafile.validate(raw, _Rules, path).root
        for rule in rules:
            if rule.key in seen:
                raise DataFileInvalid(
                    f"{datafile.where(path)}: key {rule.key!r} is also in {seen[rule.key]}", file=datafile.where(path)
                )
            seen[rule.key] = lg.name
        out.extend(rules)
    return out
