"""Issue 16's broken outputs: each draft now comes out fluent (the whole expected text) or as written and flagged."""

from __future__ import annotations

import pytest

from assist.rewrite import Rewriter

REWRITER = Rewriter.load()

FLUENT = [
    ("我不知道，您必须自己查，这不是我们的问题。", "我来帮您查一下，查到后马上回复您，我们也会帮您一起跟进。"),
    ("您没有看清楚说明书，所以才会出错。", "我们一起来看一下说明书，找找问题出在哪里。"),
    ("您的问题我们处理不了，请您找快递公司。", "您的问题我们会帮您和快递公司沟通跟进。"),
    ("I don't know, you'll have to check yourself.", "I'll look into it for you and get back to you."),
    ("不行，这个订单已经发货了，不能取消。", "这个订单已经发货了，取消这件事我们可以这样为您解决：{解决方案}。"),
    ("不行，這個訂單已經發貨了，不能取消。", "這個訂單已經發貨了，取消這件事我們可以這樣為您解決：{解決方案}。"),
    ("我不知道，你必须自己去查物流", "我来帮您查一下物流，查到后马上回复您"),  # the demo's draft (tests/web)
]

FLAGGED = [
    ("我們規定就是這樣，沒辦法退。", {"policy", "refusal"}),
    ("It's company policy, I can't change it.", {"policy", "refusal"}),
    ("我们没有义务给您补偿。", {"denial"}),
    ("We don't offer refunds on sale items.", {"policy"}),
]


@pytest.mark.parametrize(("draft", "expected"), FLUENT)
def test_issue_draft_comes_out_fluent(draft: str, expected: str) -> None:
    result = REWRITER.rewrite(draft)
    assert result.rewritten == expected
    assert not REWRITER.rewrite(result.rewritten, lang=result.lang).changed
    for c in result.changes:
        assert draft[c.start : c.end] == c.before


@pytest.mark.parametrize(("draft", "families"), FLAGGED)
def test_issue_draft_without_a_safe_rewrite_is_flagged(draft: str, families: set[str]) -> None:
    result = REWRITER.rewrite(draft)
    assert not result.changed and not result.changes
    assert {f.family for f in result.flags} == families
    for f in result.flags:
        assert draft[f.start : f.end] == f.text
        assert f.principle and f.why
    assert any(f.situation for f in result.flags)  # the caller can attach bank phrases for the situation


def test_two_offers_in_one_sentence_are_not_spliced() -> None:
    """Two clauses each rewritten into '{solution}' offers would read as the issue's garbled policy line."""
    result = REWRITER.rewrite("Rules are rules, I can't change it.")
    assert "{solution}" not in result.rewritten or result.rewritten.count("{solution}") == 1


def test_flag_as_dict_carries_family_principle_situation() -> None:
    flags = REWRITER.rewrite("We don't offer refunds on sale items.").as_dict()["flags"]
    assert flags and {"family", "principle", "situation"} <= set(flags[0])
