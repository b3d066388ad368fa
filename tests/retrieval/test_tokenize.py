"""Search tokens and script conversion: the remembered results are the computed ones, and callers get their own."""

from __future__ import annotations

from assist.lang import CACHED_CHARS, to_simplified, to_traditional
from assist.retrieval.tokenize import _tokens, tokens


def test_tokens_of_short_texts_are_remembered_but_each_caller_gets_a_list_of_its_own() -> None:
    first = tokens("我的快遞怎麼還沒到")
    first.append("changed by the caller")
    assert tokens("我的快遞怎麼還沒到") == _tokens("我的快遞怎麼還沒到") == ["快递", "没"]


def test_tokens_of_long_texts_are_the_same_as_short_ones() -> None:
    text = "退款什么时候到账？" * 60
    assert len(text) > CACHED_CHARS
    assert tokens(text) == _tokens(text) == tokens("退款什么时候到账？") * 60


def test_ascii_text_is_never_converted_and_chinese_text_is() -> None:
    assert to_simplified("Where is my order #123? {order_id}") == "Where is my order #123? {order_id}"
    assert to_simplified("我的快遞") == "我的快递" and to_traditional("我的快递") == "我的快遞"
    long = "我的快遞怎麼還沒到" * 40
    assert to_simplified(long) == "我的快递怎么还没到" * 40
