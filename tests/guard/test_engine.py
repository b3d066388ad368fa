"""The guard's matcher: folding (繁/简, width, case), word edges, exceptions, team scope, must-say checks."""

from __future__ import annotations

from typing import Any

import pytest

from assist.guard.engine import Guard
from assist.guard.fold import fold
from assist.guard.schema import GuardRuleIn


def rule(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"key": fields.pop("key", "r1"), "category": "rude", "why": "no", "phrases": ["x"]}
    base.update(fields)
    return GuardRuleIn.model_validate(base).model_dump()


@pytest.mark.parametrize(
    ("text", "folded"),
    [("ＡＢＣ，１２３", "abc,123"), ("這是您的錯", "这是您的错"), ("妳好", "你好"), ("That’s", "that's"), ("ß", "ß")],
)
def test_fold_keeps_every_offset(text: str, folded: str) -> None:
    assert fold(text) == folded and len(fold(text)) == len(text)


def test_forbidden_matches_across_script_width_and_case() -> None:
    g = Guard.build([rule(phrases=["不归我管", "stupid", "sb"], severity="block")])
    for text, want in [
        ("这个不歸我管。", "不歸我管"),
        ("That's STUPID.", "STUPID"),
        ("你真是ＳＢ", "ＳＢ"),
    ]:
        hits = g.check(text)
        assert [h.text for h in hits] == [want], text
        assert hits[0].severity == "block" and text[hits[0].start : hits[0].end] == want


def test_ascii_phrases_respect_word_edges() -> None:
    g = Guard.build([rule(phrases=["hell"])])
    assert g.check("hello there") == []
    assert [h.text for h in g.check("what the hell.")] == ["hell"]
    assert [h.text for h in g.check("见鬼hell见鬼")] == ["hell"]  # next to CJK is an edge


def test_exceptions_and_longest_phrase_of_a_rule() -> None:
    g = Guard.build([rule(phrases=["滚", "你滚"], exceptions=["滚动", "滚筒"])])
    assert g.check("请向下滚动页面") == []
    assert [h.text for h in g.check("你滚吧")] == ["你滚"]
    assert [h.text for h in g.check("滚筒坏了？滚！")] == ["滚"]


def test_exception_must_contain_a_phrase() -> None:
    with pytest.raises(ValueError, match="contains none of the phrases"):
        rule(phrases=["滚"], exceptions=["翻转"])


def test_team_and_language_scope() -> None:
    g = Guard.build([rule(phrases=["退款"], teams=["sales"]), rule(key="r2", phrases=["refund"], langs=["en"])])
    assert g.check("无法退款") == []  # no team: team-scoped rules do not apply
    assert len(g.check("无法退款", team="sales")) == 1
    assert g.check("refund", lang="zh-Hans") == []
    assert len(g.check("refund", lang="en")) == 1


def test_must_say_first_reply_closing_and_disclosure() -> None:
    g = Guard.build(
        [
            rule(key="hi", kind="must_say", category="greeting", when="first_reply", phrases=["您好"]),
            rule(key="bye", kind="must_say", category="closing", when="closing", triggers=["再见"], phrases=["感谢"]),
            rule(
                key="rec",
                kind="must_say",
                category="disclosure",
                when="by_reply",
                reply=2,
                phrases=["本次对话将被录音"],
                teams=["finance"],
                severity="block",
            ),
        ]
    )
    assert [h.rule for h in g.check("订单已发出", [])] == ["hi"]
    assert g.check("您好，订单已发出", []) == []
    assert g.check("订单已发出", None) == []  # conversation unknown: no history checks
    assert g.check("订单已发出", ["您好"]) == []
    closing = g.check("好的，再见", ["您好"])
    assert [(h.rule, h.text) for h in closing] == [("bye", "再见")] and closing[0].phrases == ("感谢",)
    assert g.check("感谢您，再见", ["您好"]) == []
    # the disclosure: due by the agent's 2nd reply, for the finance team
    assert g.check("您好", [], team="finance") == []  # the 1st reply: not due yet
    due = g.check("请问还有什么问题？", ["您好"], team="finance")
    assert [(h.rule, h.severity) for h in due] == [("rec", "block")]
    assert g.check("请问还有什么问题？", ["您好，本次对话将被录音"], team="finance") == []
    assert g.check("请问还有什么问题？", ["您好"], team="sales") == []


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "must_say", "phrases": ["a"]},  # no when
        {"kind": "must_say", "when": "closing", "phrases": ["a"]},  # no triggers
        {"kind": "must_say", "when": "by_reply", "phrases": ["a"]},  # no reply
        {"kind": "must_say", "when": "first_reply", "phrases": ["a"], "exceptions": ["ab"]},
        {"phrases": ["a"], "when": "closing"},  # forbidden with when
        {"phrases": ["   "]},
        {"phrases": []},
        {"phrases": ["a"], "severity": "stop"},
    ],
)
def test_bad_rules_are_refused(fields: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        rule(**fields)


def test_a_thousand_rules_match_each_phrase_once() -> None:
    rules = [rule(key=f"k{i}", phrases=[f"禁语{i:04d}号"]) for i in range(1000)]
    g = Guard.build(rules)
    hits = g.check("你好，禁语0042号和禁语0999号都不能说，禁语号不算。")
    assert [h.rule for h in hits] == ["k42", "k999"]
