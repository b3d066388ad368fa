"""`language.yml`: what a language folder declares about itself (codes, detection, normalization, converters,
search tokens, stop words)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from assist.datafile import check_labels, check_regex
from assist.lang import CHAR_SETS, CONVERTERS

CODE_PATTERN = r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$"  # BCP 47 shape: en, zh-Hans, pt-BR


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Detect(_Strict):
    """How a text shows it is in this language: its letters, counted as characters or as words."""

    letters: str = Field(description="a regex character class, e.g. '[A-Za-z]'")
    unit: Literal["char", "word"] = Field("word", description="count letters one by one (Chinese) or in runs")
    variants: dict[str, str] = Field(
        {},
        description="code -> character set (assist.lang.CHAR_SETS); the code "
        "whose set the text uses most wins, ties to the first code",
    )

    @field_validator("letters")
    @classmethod
    def _letters(cls, v: str) -> str:
        return check_regex(v)

    @field_validator("variants")
    @classmethod
    def _sets(cls, v: dict[str, str]) -> dict[str, str]:
        check_labels(v.values(), CHAR_SETS, "character set")
        return v


class Tokens(_Strict):
    """The words the lexical search channel indexes, read from the lower-cased matching form."""

    pattern: str
    segment: Literal["none", "jieba"] = "none"
    min_chars: int = Field(1, ge=1)

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, v: str) -> str:
        return check_regex(v)


class LanguageManifest(_Strict):
    name: str = Field(description="what the language is called, for people")
    order: int = Field(100, description="lower first: code lists, CSV columns, search slots, detection ties")
    codes: list[str] = Field(min_length=1, description="language codes; the first is the one the data uses")
    labels: dict[str, str] = {}
    detect: Detect
    normalize: str | None = Field(None, description="converter to the matching form (offsets kept)")
    convert: dict[str, dict[str, str]] = Field({}, description="from code -> to code -> converter")
    tokens: Tokens | None = None
    stop_words: frozenset[str] = frozenset()

    @field_validator("codes")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if not re.match(CODE_PATTERN, c)]
        if bad or len(set(v)) != len(v):
            raise ValueError(f"codes must be distinct language codes such as 'en' or 'zh-Hant' (got {v})")
        return v

    @field_validator("stop_words", mode="before")
    @classmethod
    def _words(cls, v: object) -> object:
        return v.split() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _refs(self) -> LanguageManifest:
        check_labels(self.labels, self.codes, "code in labels")
        check_labels(self.detect.variants, self.codes, "code in detect.variants")
        check_labels(self.convert, self.codes, "code in convert")
        for targets in self.convert.values():
            check_labels(targets, self.codes, "code in convert")
            check_labels(targets.values(), CONVERTERS, "converter")
        if self.normalize is not None:
            check_labels([self.normalize], CONVERTERS, "converter")
        return self
