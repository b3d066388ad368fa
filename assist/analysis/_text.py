"""Text preparation shared by the analysis: cleaning, truncation, normalization, similarity grams."""

from __future__ import annotations

import re
import unicodedata

from assist.lang import is_cjk

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*|\d{3,}")


def clean(text: str, max_chars: int) -> tuple[str, bool]:
    """Truncate to `max_chars` and blank out control characters one for one, so spans stay put."""
    truncated = len(text) > max_chars
    if truncated:
        text = text[:max_chars]
    return _CONTROL.sub(" ", text), truncated


def size(text: str) -> int:
    """Length in reading units of Chinese characters."""
    # An English word carries about one and a half Chinese characters of content.
    return round(sum(1 for c in text if is_cjk(c)) + 1.5 * len(_LATIN_WORD.findall(text)))


def is_content(ch: str) -> bool:
    return ch.isalnum() or unicodedata.category(ch).startswith("S")


def grams(norm: str) -> frozenset[str]:
    """Character bigrams of Chinese runs, Latin words of 3+ letters and digit runs: a script-neutral bag."""
    out: set[str] = set()
    run: list[str] = []
    for ch in norm + " ":
        if is_cjk(ch):
            run.append(ch)
            continue
        if len(run) == 1:
            out.add(run[0])
        out.update(run[i] + run[i + 1] for i in range(len(run) - 1))
        run = []
    out.update(w.lower().rstrip("'’s") for w in _LATIN_WORD.findall(norm) if len(w) >= 3)
    out.discard("")
    return frozenset(out)


def similarity(a: frozenset[str], b: frozenset[str]) -> tuple[float, float]:
    """(containment, jaccard) of two gram bags."""
    if not a or not b:
        return 0.0, 0.0
    inter = len(a & b)
    return inter / min(len(a), len(b)), inter / len(a | b)
