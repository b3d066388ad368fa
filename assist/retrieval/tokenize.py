"""Tokens for the lexical channel, as each language's manifest says (`tokens`, `stop_words`): jieba words for
Chinese (on the Simplified form), lowercase words for English."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

import jieba

from assist.lang import CACHED_CHARS
from assist.languages import Registry, registry

jieba.setLogLevel(logging.WARNING)  # jieba logs its dictionary build at INFO on first use

_PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*\}")


@dataclass(frozen=True, slots=True)
class _Rules:
    """The registry's token patterns as one regex (a named group per language) and each language's rules."""

    word: re.Pattern[str]
    languages: dict[str, tuple[bool, int, frozenset[str]]]  # group -> (jieba, min chars, stop words)


@lru_cache(maxsize=4)
def _rules_for(languages: Registry) -> _Rules:
    parts, rules = [], {}
    for i, lg in enumerate(languages.languages):
        spec = lg.manifest.tokens
        if spec is not None:
            parts.append(f"(?P<t{i}>{spec.pattern})")
            rules[f"t{i}"] = (spec.segment == "jieba", spec.min_chars, lg.manifest.stop_words)
    return _Rules(re.compile("|".join(parts) or r"(?!)"), rules)


@lru_cache(maxsize=1)
def _ready() -> None:
    jieba.initialize()


# A search tokenizes the query once for BM25 and again for each hit's "shares …" reason, and each hit's phrase
# text too; short texts (CACHED_CHARS, assist.lang) keep their tokens.


def tokens(text: str) -> list[str]:
    """Content tokens of a text in any of the product's languages; placeholders are dropped."""
    languages = registry()
    if len(text) <= CACHED_CHARS:
        return list(_cached_tokens(text, languages))
    return _tokens(text, languages)


@lru_cache(maxsize=8192)
def _cached_tokens(text: str, languages: Registry) -> tuple[str, ...]:
    return tuple(_tokens(text, languages))


def _tokens(text: str, languages: Registry | None = None) -> list[str]:
    languages = languages or registry()
    rules = _rules_for(languages)
    text = _PLACEHOLDER.sub(" ", languages.normalize(text).lower())
    out: list[str] = []
    for m in rules.word.finditer(text):
        chunk = m.group(0)
        segment, min_chars, stop = rules.languages[m.lastgroup or ""]
        if segment:
            _ready()
            out.extend(w for w in jieba.lcut(chunk, HMM=False) if w not in stop and len(w) >= min_chars)
        elif chunk not in stop and len(chunk) >= min_chars:
            out.append(chunk)
    return out
