"""The phrase entry as written in YAML/CSV/JSONL and sent to the API, with its validation."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from assist.bounds import refuse_bad_chars
from assist.datafile import check_labels
from assist.languages import registry
from assist.vocab import EMOTIONS, PHRASE_STATUSES, PROFILE_LABELS, SITUATIONS, TECHNIQUES

MAX_PHRASE_CHARS = 1000
MAX_EXAMPLE_CHARS = 500
MAX_EXAMPLES = 40  # per phrase, all languages together (the search index's slots per phrase, retrieval/rows.py)
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
KEY_PATTERN = r"^[a-z0-9][a-z0-9_.\-]{0,79}$"


def _registered(code: str) -> str:
    check_labels([code], registry().codes, "language code")
    return code


Lang = Annotated[str, AfterValidator(_registered)]  # a registered language code (assist.languages)
Status = Literal["draft", "approved", "retired"]
Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
CLEAN = AfterValidator(refuse_bad_chars)
Team = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), AfterValidator(refuse_bad_chars)
]

assert set(PHRASE_STATUSES) == {"draft", "approved", "retired"}


def placeholders(text: str) -> list[str]:
    """The `{name}` slots in a text, in order of first appearance."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


class Source(BaseModel):
    """Where a phrase's principle comes from: a seed document and the principle's name in it."""

    model_config = ConfigDict(extra="forbid")
    seed: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), CLEAN]
    principle: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), CLEAN]


class PhraseFields(BaseModel):
    """Labels shared by every way of writing a phrase."""

    model_config = ConfigDict(extra="forbid")

    situations: list[str] = Field(default_factory=list)
    emotions: list[str] = Field(default_factory=list)
    customer_types: list[str] = Field(default_factory=list, description="dimension:label, e.g. temperament:proud")
    technique: str | None = None
    teams: list[Team] = Field(default_factory=list, description="team scope; empty means everyone")
    source: Source | None = None
    examples: dict[Lang, list[str]] = Field(
        default_factory=dict,
        description="customer messages the phrase answers, per language (written as customers write; "
        f"up to {MAX_EXAMPLES} per phrase, {MAX_EXAMPLE_CHARS} characters each, one line); suggestions "
        "match a message against them beside the phrase's own texts",
    )

    @field_validator("examples")
    @classmethod
    def _examples(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        return check_examples(v)

    @field_validator("situations")
    @classmethod
    def _situations(cls, v: list[str]) -> list[str]:
        return check_labels(v, SITUATIONS, "situation")

    @field_validator("emotions")
    @classmethod
    def _emotions(cls, v: list[str]) -> list[str]:
        return check_labels(v, EMOTIONS, "emotion")

    @field_validator("customer_types")
    @classmethod
    def _customer_types(cls, v: list[str]) -> list[str]:
        return check_labels(v, PROFILE_LABELS, "customer type")

    @field_validator("technique")
    @classmethod
    def _technique(cls, v: str | None) -> str | None:
        if v is not None:
            check_labels([v], TECHNIQUES, "technique")
        return v

    @field_validator("teams")
    @classmethod
    def _teams(cls, v: list[str]) -> list[str]:
        return sorted(set(v))


def check_texts(text: dict[str, str]) -> dict[str, str]:
    """Strip, drop empties, bound length, and require the same placeholders in every language."""
    cleaned = {lang: t.strip() for lang, t in text.items() if t and t.strip()}
    if not cleaned:
        raise ValueError(f"at least one text is required ({', '.join(registry().codes)})")
    for lang, t in cleaned.items():
        try:
            refuse_bad_chars(t)
        except ValueError as exc:
            raise ValueError(f"text {lang} {exc}") from None
        if len(t) > MAX_PHRASE_CHARS:
            raise ValueError(f"text {lang} is {len(t)} characters; the limit is {MAX_PHRASE_CHARS}")
    slots = {lang: sorted(placeholders(t)) for lang, t in cleaned.items()}
    if len({tuple(s) for s in slots.values()}) > 1:
        listed = "; ".join(f"{lang}: {', '.join(s) or 'none'}" for lang, s in slots.items())
        raise ValueError(f"placeholders differ between languages ({listed})")
    return cleaned


def check_examples(examples: dict[str, list[str]]) -> dict[str, list[str]]:
    """Whitespace runs (line breaks too) as one space, empties and repeats dropped, length and count bounded;
    languages in registry order, empty ones left out."""
    out: dict[str, list[str]] = {}
    for lang in sorted(examples, key=registry().order):
        cleaned = list(dict.fromkeys(" ".join(t.split()) for t in examples[lang] if t and t.strip()))
        for t in cleaned:
            if len(t) > MAX_EXAMPLE_CHARS:
                raise ValueError(f"an example in {lang} is {len(t)} characters; the limit is {MAX_EXAMPLE_CHARS}")
        if cleaned:
            out[lang] = cleaned
    total = sum(len(v) for v in out.values())
    if total > MAX_EXAMPLES:
        raise ValueError(f"{total} examples; the limit is {MAX_EXAMPLES} per phrase")
    return out


class PhraseIn(PhraseFields):
    """One phrase as imported or shipped. `key` is the stable id that makes loading idempotent."""

    key: Key | None = None
    text: dict[Lang, str]
    status: Status = "approved"

    @model_validator(mode="after")
    def _texts(self) -> PhraseIn:
        self.text = check_texts(self.text)
        return self
