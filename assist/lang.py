"""Script conversion (OpenCC): Simplified <-> Traditional, whole or with every offset kept, and the
character sets that tell the scripts apart. Which languages exist and how to detect them: assist.languages."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache, partial
from importlib import resources
from typing import Any

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
# are pure Python. Longer texts are worked out each time, piece by piece (below).
CACHED_CHARS = 256


@lru_cache(maxsize=8192)
def _convert_cached(config: str, text: str) -> str:
    return _convert_pieces(config, text)


def _convert(config: str, text: str) -> str:
    if text.isascii():
        return text  # every key of OpenCC's tables holds a Chinese character, so such text never changes
    if len(text) <= CACHED_CHARS:
        return _convert_cached(config, text)
    return _convert_pieces(config, text)


# OpenCC (opencc-python-reimplemented) splits a text at its separators (punctuation, spaces; no dictionary key
# holds one) and converts each piece on its own. So do we, with each piece kept (a draft's pieces come back on
# every keystroke and every rewrite pass) and a piece holding no character that the configuration's
# dictionaries change returned as it is. The result is OpenCC's, character for character
# (tests/test_languages.py compares them).
@lru_cache(maxsize=65536)
def _convert_piece(config: str, piece: str) -> str:
    return str(_converter(config).convert(piece))


def _convert_pieces(config: str, text: str) -> str:
    parts = _converter(config).split_chars_re.split(text)  # pieces at even indexes, separators between
    changes = _changing_chars(config)
    for i in range(0, len(parts), 2):
        piece = parts[i]
        if piece and not changes.isdisjoint(piece):
            parts[i] = _convert_piece(config, piece)
    return "".join(parts)


@lru_cache(maxsize=16)
def _changing_chars(config: str) -> frozenset[str]:
    """Every character some dictionary of `config` replaces (all of a key that changes length).

    A text with none of them comes out of every step of the conversion as it went in: each step replaces
    dictionary keys by their first value, and a key whose value differs holds one of these characters.
    """
    package = resources.files("opencc")
    spec = json.loads(package.joinpath("config", f"{config}.json").read_text(encoding="utf-8"))
    files: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("type") == "group":
            for sub in node.get("dicts", []):
                walk(sub)
        elif node.get("type") == "txt":
            files.append(str(node["file"]))

    for step in spec["conversion_chain"]:
        walk(step["dict"])
    out: set[str] = set()
    for name in files:
        for line in package.joinpath("dictionary", name).read_text(encoding="utf-8").splitlines():
            if "\t" not in line:
                continue
            key, value = line.strip().split("\t")
            first = value.split(" ")[0]
            if len(first) != len(key):
                out.update(key)
            else:
                out.update(k for k, v in zip(key, first, strict=True) if k != v)
    return frozenset(out)


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

# Written Cantonese (Hong Kong chat): characters both OpenCC tables leave alone, so they tell neither script by
# themselves, yet a draft using them is written by a Hong Kong agent in Traditional characters (唔該晒你嘅耐心).
CANTONESE = frozenset("咗嘅啲嚟喺哋嘢㗎喎冇唔佢睇噉乜嘥攞畀嗰啱咁嚿揸")


@lru_cache(maxsize=1)
def _traditional_or_cantonese() -> frozenset[str]:
    return _script_chars()[0] | (CANTONESE - _script_chars()[1])


def chinese_script(text: str) -> str | None:
    """`zh-Hant` or `zh-Hans` when the text's characters show one script more than the other (Cantonese
    characters count as Traditional); None when they show neither: 我不知道。 is written alike in both."""
    traditional = sum(map(_traditional_or_cantonese().__contains__, text))
    simplified = sum(map(_script_chars()[1].__contains__, text))
    if traditional == simplified:
        return None
    return "zh-Hant" if traditional > simplified else "zh-Hans"


# Character sets a manifest's detection may weigh a text's code by (`detect.variants`).
CHAR_SETS: dict[str, Callable[[], frozenset[str]]] = {
    "traditional_only": lambda: _script_chars()[0],
    "simplified_only": lambda: _script_chars()[1],
    "traditional_or_cantonese": _traditional_or_cantonese,
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
