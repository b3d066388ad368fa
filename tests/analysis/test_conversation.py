"""Conversation state: context cues, carry-over, trajectory, trend, incremental API."""

from __future__ import annotations

import pytest

from assist.analysis import Analyzer, Conversation
from assist.analysis.analyzer import default_analyzer
from assist.errors import InvalidInput


@pytest.fixture
def conv() -> Conversation:
    return default_analyzer().conversation()


def kinds(analysis) -> set[str]:  # type: ignore[no-untyped-def]
    return {c["kind"] for c in analysis.to_dict()["emotion"]["cues"] if c["message"] == analysis.message}


def test_praise_after_refusal_is_sarcasm(conv: Conversation) -> None:
    conv.add("customer", "耳机坏了我要退货", 0)
    conv.add("agent", "抱歉，拆封后无法退货", 30)
    a = conv.add("customer", "太好了", 40)
    assert "sarcasm" in kinds(a)
    assert a.emotion is not None and a.emotion.label != "satisfaction"


def test_praise_after_help_is_satisfaction(conv: Conversation) -> None:
    conv.add("customer", "耳机坏了我要退货", 0)
    conv.add("agent", "好的，已为您办理退货，运费我们承担", 30)
    a = conv.add("customer", "太好了", 40)
    assert "sarcasm" not in kinds(a)
    assert a.emotion is not None and a.emotion.label == "satisfaction"


@pytest.mark.parametrize(
    ("first", "again"),
    [
        ("我的订单什么时候发货", "订单到底什么时候发货啊"),
        ("我的訂單什麼時候發貨", "我的订单到底什么时候发货"),
        ("Where is my order? It was due Monday", "where is my order, it was due monday!!"),
    ],
)
def test_repetition_by_similarity(conv: Conversation, first: str, again: str) -> None:
    conv.add("customer", first, 0)
    conv.add("agent", "正在为您查询", 20)
    a = conv.add("customer", again, 200)
    rep = [c for c in a.to_dict()["emotion"]["cues"] if c["kind"] == "repetition"]
    assert rep and rep[0]["ref"] == [0]


def test_different_question_is_not_repetition(conv: Conversation) -> None:
    conv.add("customer", "我的订单什么时候发货", 0)
    a = conv.add("customer", "另外我想改一下收货地址", 60)
    assert "repetition" not in kinds(a)


def test_burst_of_messages(conv: Conversation) -> None:
    conv.add("customer", "在吗", 0)
    conv.add("customer", "有人吗", 4)
    a = conv.add("customer", "人呢", 8)
    assert "burst" in kinds(a)
    slow = default_analyzer().conversation()
    for i, text in enumerate(["在吗", "有人吗", "人呢"]):
        b = slow.add("customer", text, i * 60)
    assert "burst" not in kinds(b)


def test_silence_after_a_question_and_one_word_replies(conv: Conversation) -> None:
    conv.add("agent", "请问是哪个订单呢？", 0)
    a = conv.add("customer", "123456", 300)
    assert "silence" in kinds(a)
    b = conv.add("customer", "嗯", 310)
    assert "silence" in kinds(b)
    other = default_analyzer().conversation()
    other.add("agent", "我帮您查一下，请稍等", 0)
    c = other.add("customer", "订单还没到", 300)
    assert "silence" not in kinds(c)


def test_trajectory_and_trend(conv: Conversation) -> None:
    conv.add("customer", "请问什么时候发货", 0)
    conv.add("customer", "怎么还没发货", 100)
    a = conv.add("customer", "气死了！！再不发我就投诉！", 200)
    out = a.to_dict()
    assert [p["message"] for p in out["trajectory"]] == [0, 1, 2]
    assert out["trend"] == "escalating"
    conv.add("agent", "已经为您加急发出", 230)
    b = conv.add("customer", "好的，谢谢", 260)
    assert b.to_dict()["trend"] == "calming"


def test_agent_messages_do_not_change_the_customer_emotion(conv: Conversation) -> None:
    conv.add("customer", "气死我了", 0)
    a = conv.add("agent", "非常抱歉，我们很失望给您带来不好的体验", 10)
    assert a.role == "agent"
    assert a.to_dict()["emotion"]["label"] == "anger"
    assert len(a.trajectory) == 1


def test_windows_are_bounded() -> None:
    conv = default_analyzer().conversation()
    for i in range(300):
        conv.add("customer", f"message {i}", i * 100)
    assert len(conv._customers) <= conv.th.repetition_window
    assert len(conv.to_dict()["trajectory"]) == conv.th.trajectory_max


def test_unknown_role_is_rejected(conv: Conversation) -> None:
    with pytest.raises(InvalidInput):
        conv.add("bot", "hi", 0)


def test_analyze_conversation_validates_turns() -> None:
    analyzer: Analyzer = default_analyzer()
    with pytest.raises(InvalidInput):
        analyzer.analyze_conversation([{"role": "customer", "text": 5, "t": 0}])
    with pytest.raises(InvalidInput):
        analyzer.analyze_conversation([{"role": "customer", "text": "hi", "t": "soon"}])
    assert analyzer.analyze_conversation([])["emotion"]["label"] == "neutral"


def test_script_neutral_reply_keeps_the_conversation_script(conv: Conversation) -> None:
    conv.add("customer", "請問運費多少", 0)
    assert conv.add("customer", "嗯嗯", 10).lang == "zh-Hant"
    assert default_analyzer().analyze_message("嗯嗯")["lang"] == "zh-Hans"
