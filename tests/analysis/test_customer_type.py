"""Customer profile: five dimensions, unknown without evidence, evidence pointing at words, incremental."""

from __future__ import annotations

from assist.analysis.analyzer import default_analyzer
from assist.vocab import PROFILE


def test_profile_starts_unknown() -> None:
    customer = default_analyzer().analyze_message("你好")["customer"]
    assert set(customer) == set(PROFILE)
    assert all(v == {"label": "unknown", "confidence": 0.0, "evidence": []} for v in customer.values())


def test_profile_evidence_points_at_message_and_words() -> None:
    conv = default_analyzer().conversation()
    conv.add("customer", "你好，请问现在有优惠吗", 0)
    conv.add("agent", "现在没有活动哦", 20)
    text = "太贵了，别家才卖99"
    out = conv.add("customer", text, 40).to_dict()
    price = out["customer"]["price_attitude"]
    assert price["label"] == "haggler"
    assert 0 < price["confidence"] <= 1
    ev = [e for e in price["evidence"] if e["message"] == 2]
    assert ev and text[ev[0]["start"] : ev[0]["end"]] == ev[0]["text"]


def test_two_soft_price_asks_make_a_haggler() -> None:
    conv = default_analyzer().conversation()
    conv.add("customer", "Is there any discount on this?", 0)
    assert conv.to_dict()["customer"]["price_attitude"]["label"] == "tentative"
    conv.add("customer", "Any coupon code I could use?", 30)
    assert conv.to_dict()["customer"]["price_attitude"]["label"] == "haggler"


def test_silent_customer_from_one_word_replies() -> None:
    conv = default_analyzer().conversation()
    conv.add("agent", "请问有什么可以帮您？", 0)
    conv.add("customer", "嗯", 30)
    conv.add("agent", "请问是哪个订单呢？", 40)
    out = conv.add("customer", "哦", 300).to_dict()
    assert out["customer"]["temperament"]["label"] == "silent"
    assert any(h["for"] == "temperament:silent" for h in out["hints"])


def test_hints_follow_the_customer_language() -> None:
    out = default_analyzer().analyze_message("我很擔心包裹丟了，怎麼辦")
    hint = next(h for h in out["hints"] if h["for"] == "emotion:anxiety")
    assert hint["source"].startswith("seed")
    assert "您" in hint["text"] or "時間" in hint["text"]
    assert default_analyzer().analyze_message("I'm so worried")["hints"][0]["text"].isascii()
