"""Script conversion (OpenCC): Simplified <-> Traditional, whole or with every offset kept, and the
character sets that tell the scripts apart. Which languages exist and how to detect them: assist.languages."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial
from importlib import resources

import opencc


@lru_cache(maxsize=1)
def _script_chars() -> tuple[frozenset[str], frozenset[str]]:
    """Characters that only Traditional (resp. only Simplified) writing uses, from OpenCC's tables."""

    def table(name: str) -> dict[str, list[str]]:
        text = resources.files("opencc").joinpath("dictionary", name).read_text(encoding="utf-8")
        rows = (line.split("\t") for line in text.splitlines() if "\t" in line)
        return {key: value.split() for key, value in rows}

    trad = {k for k, v in table("TSCharacters.txt").items() if len(k) == 1 and k not in v}
    simp = {k for k, v in table("STCharacters.txt").items() if len(k) == 1 and k not in v}
    return frozenset(trad - simp), frozenset(simp - trad)


@lru_cache(maxsize=4)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


# Texts up to this long keep what is computed from them (conversions here, search tokens, situations): bank
# phrases, cue spans and chat messages come back again and again on the suggestion path, and OpenCC and jieba
# are pure Python. Longer texts are worked out each time.
CACHED_CHARS = 256


@lru_cache(maxsize=8192)
def _convert_cached(config: str, text: str) -> str:
    return str(_converter(config).convert(text))


def _convert(config: str, text: str) -> str:
    if text.isascii():
        return text  # every key of OpenCC's tables holds a Chinese character, so such text never changes
    if len(text) <= CACHED_CHARS:
        return _convert_cached(config, text)
    return str(_converter(config).convert(text))


def to_simplified(text: str) -> str:
    return _convert("t2s", text)


def to_traditional(text: str) -> str:
    return _convert("s2tw", text)


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"


# Converters a language manifest may name (`normalize`, `convert`): OpenCC configurations.
CONVERTERS: dict[str, Callable[[str], str]] = {
    name: partial(_convert, name) for name in ("t2s", "s2t", "s2tw", "tw2s", "s2hk", "hk2s", "t2tw", "t2hk")
}

# Character sets a manifest's detection may weigh a text's code by (`detect.variants`).
CHAR_SETS: dict[str, Callable[[], frozenset[str]]] = {
    "traditional_only": lambda: _script_chars()[0],
    "simplified_only": lambda: _script_chars()[1],
}


@lru_cache(maxsize=65536)
def _convert_char(name: str, ch: str) -> str:
    out = CONVERTERS[name](ch)
    return out if len(out) == 1 else ch


def aligned(text: str, name: str) -> str:
    """`text` converted by the converter `name` with every character kept at its offset.

    The whole text is converted when that keeps its length; otherwise (OpenCC mapped a phrase to one of
    another length) character by character, each character that would change length staying as it is. Spans
    found in the result are spans of `text`.
    """
    out = CONVERTERS[name](text)
    if len(out) == len(text):
        return out
    return "".join(_convert_char(name, ch) for ch in text)
