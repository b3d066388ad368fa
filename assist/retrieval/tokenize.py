"""Tokens for the lexical channel: jieba words for Chinese (on the Simplified form), lowercase words for English."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba

from assist.lang import CACHED_CHARS, to_simplified

jieba.setLogLevel(logging.WARNING)  # jieba logs its dictionary build at INFO on first use

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[\u3400-\u9fff]+")
_CJK = re.compile(r"[\u3400-\u9fff]")
_PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*\}")

# Function words that match everything and so rank nothing.
STOPWORDS = frozenset(
    "的 了 是 我 你 您 他 她 它 们 我们 你们 咱们 在 和 与 就 都 也 还 又 很 吗 呢 吧 啊 呀 哦 嗯 这 那 这个 那个 一个 "
    "有 个 为 给 把 被 让 对 从 到 会 能 要 请 吧 么 什么 怎么 "
    "a an the and or but of to in on at for with by from is are was were be been am i you he she it we they "
    "me my your our us this that these those do does did have has had will would can could shall should "
    "please so just not no yes as if then than there here what when where which who how".split()
)


@lru_cache(maxsize=1)
def _ready() -> None:
    jieba.initialize()


# A search tokenizes the query once for BM25 and again for each hit's "shares …" reason, and each hit's phrase
# text too; short texts (CACHED_CHARS, assist.lang) keep their tokens.


def tokens(text: str) -> list[str]:
    """Content tokens of a text in any of the product's languages; placeholders are dropped."""
    if len(text) <= CACHED_CHARS:
        return list(_cached_tokens(text))
    return _tokens(text)


@lru_cache(maxsize=8192)
def _cached_tokens(text: str) -> tuple[str, ...]:
    return tuple(_tokens(text))


def _tokens(text: str) -> list[str]:
    _ready()
    text = _PLACEHOLDER.sub(" ", to_simplified(text).lower())
    out: list[str] = []
    for chunk in _WORD.findall(text):
        if _CJK.match(chunk):
            out.extend(w for w in jieba.lcut(chunk, HMM=False) if w not in STOPWORDS)
        elif chunk not in STOPWORDS and len(chunk) > 1:
            out.append(chunk)
    return out
