"""Language and script of a text (zh-Hans, zh-Hant, en) and Simplified <-> Traditional conversion."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
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


@dataclass(frozen=True, slots=True)
class LangGuess:
    lang: str  # "zh-Hans" | "zh-Hant" | "en"
    mixed: bool  # both Chinese characters and Latin words in meaningful amounts
    cjk: int  # Chinese characters seen
    latin: int  # Latin letters seen


def detect_lang(text: str, default: str = "en") -> LangGuess:
    """Guess the language and script of one message.

    Chinese wins when it has at least as many characters as the Latin text has words (a Chinese
    character carries about a word). The script is Traditional when the text holds more
    Traditional-only than Simplified-only characters. Text with neither is `default`.
    """
    trad_only, simp_only = _script_chars()
    cjk = latin = trad = simp = words = 0
    in_word = False
    for ch in text:
        if is_cjk(ch):
            cjk += 1
            trad += ch in trad_only
            simp += ch in simp_only
            in_word = False
        elif ch.isascii() and ch.isalpha():
            latin += 1
            words += not in_word
            in_word = True
        else:
            in_word = False
    if cjk == 0 and latin == 0:
        return LangGuess(default, False, 0, 0)
    mixed = cjk > 0 and words > 0 and min(cjk, words) >= 2
    if cjk and cjk >= words:
        return LangGuess("zh-Hant" if trad > simp else "zh-Hans", mixed, cjk, latin)
    return LangGuess("en", mixed, cjk, latin)
