"""Folding for guard matching: full/half width, case and script (繁/简) folded, every character kept at its
offset, so a span found in the folded text is a span of the draft."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from assist.lang import aligned

# Characters that mean the same in chat but that NFKC and OpenCC's t2s leave apart: 妳 (Taiwan's feminine
# you), 祢, curly quotes and apostrophes.
VARIANTS = {"妳": "你", "祢": "你", "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'}


@lru_cache(maxsize=65536)
def _fold_char(ch: str) -> str:
    if ch in VARIANTS:
        return VARIANTS[ch]
    out = unicodedata.normalize("NFKC", ch).casefold()
    return out if len(out) == 1 else (ch.lower() if len(ch.lower()) == 1 else ch)


def fold(text: str) -> str:
    """`text` with full-width forms made half-width (ＡＢＣ，１２ → ABC,12), letters case-folded and Traditional
    made Simplified (OpenCC t2s), one character for one character: `len(fold(t)) == len(t)`."""
    if text.isascii():
        return text.lower()
    chars = "".join(_fold_char(ch) for ch in text)
    return aligned(chars, "t2s")
