"""Placeholders in phrases: filled from the request's context or from what the customer wrote."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assist import datafile
from assist.bank.schema import PLACEHOLDER
from assist.languages import Registry, registry


class SlotExample(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    expect: str | None


class SlotRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    patterns: list[str]
    examples: list[SlotExample] = Field(min_length=1)

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, v: list[str]) -> list[str]:
        for p in v:
            if "(?P<value>" not in p:
                raise ValueError(f"pattern {p!r} has no (?P<value>…) group")
            re.compile(p)
        return v


SLOTS_FILE = "slots.yml"


def load_slot_rules() -> dict[str, SlotRule]:
    """Every language's slots.yml, merged: a slot's patterns in registry order (examples likewise)."""
    merged: dict[str, SlotRule] = {}
    for _, path in registry().data(SLOTS_FILE):
        for name, rule in datafile.load_mapping(path, SlotRule).items():
            old = merged.get(name)
            merged[name] = (
                rule
                if old is None
                else SlotRule(patterns=[*old.patterns, *rule.patterns], examples=[*old.examples, *rule.examples])
            )
    return merged


@lru_cache(maxsize=4)
def _compiled_for(_: Registry) -> dict[str, list[re.Pattern[str]]]:
    return {name: [re.compile(p) for p in rule.patterns] for name, rule in load_slot_rules().items()}


def _compiled() -> dict[str, list[re.Pattern[str]]]:
    return _compiled_for(registry())


def extract_slots(messages: Iterable[str]) -> dict[str, str]:
    """Slot values found in customer messages; pass them newest first so the latest mention wins."""
    found: dict[str, str] = {}
    for text in messages:
        for name, patterns in _compiled().items():
            if name in found:
                continue
            for pattern in patterns:
                m = pattern.search(text)
                if m:
                    found[name] = m.group("value")
                    break
    return found


def fill(template: str, values: Mapping[str, str]) -> tuple[str, list[str]]:
    """The template with known slots filled, and the names of those left as visible {slots}."""
    missing: list[str] = []

    def sub(m: re.Match[str]) -> str:
        value = values.get(m.group(1))
        if value:
            return value
        if m.group(1) not in missing:
            missing.append(m.group(1))
        return m.group(0)

    return PLACEHOLDER.sub(sub, template), missing
