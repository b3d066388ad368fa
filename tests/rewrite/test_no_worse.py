"""Never worse than the draft (round 4): a rewritten sentence is re-read as it would be sent; if a negative family
is still detected outside the rules' own words, a known garble shows up, an offer is added next to the agent's own
promise, or an untouched clause still refuses, the sentence comes back as written and flagged.

The drafts are from eval/rewrite_blind2.yml, which is development data since round 4 (docs/rewrite.md).
"""

from __future__ import annotations

import re

import pytest

from assist.rewrite import Rewriter
from assist.rewrite.rules import load_rules

REWRITER = Rewriter.load()

# (draft, whole output, a family the flags must carry or None when the draft must be rewritten)
CASES = [
    # b2h.05: the impatience rule left its punctuation (刚才再为您说明一下：，…)
    ("刚才不是跟您说了吗，要等仓库审合", "刚才不是跟您说了吗，要等仓库审合", "impatience"),
    # b2h.10: an offer followed by the refusal it replaced (…{可行方案}，超过七天不给退)
    ("规定就是规定，超过七天不给退。", "规定就是规定，超过七天不给退。", "refusal"),
    # b2h.11: 问下商家 read as the object (和下商家); now one clause rewrite
    (
        "这个我也不知道，我们这边处理不了，你问下商家吧",
        "这个我会为您查询后尽快回复，我们会帮您和商家沟通跟进",
        None,
    ),
    # b2h.33: two offers and a hand-off (…尽快回复，等其他同事回您吧)
    ("这个不是我负责的，我也不清楚，等其他同事回你吧", "这个不是我负责的，我也不清楚，等其他同事回你吧", "buck"),
    # b2t.24: an impatience tail turned into a promise that nothing follows (…，再為您說明一下)
    ("我們沒有少寄，您再找找看，我已經說很多次了", "我們沒有少寄，您再找找看，我已經說很多次了", "impatience"),
    # b2e.06: "To recap twice now"
    (
        "Like I mentioned twice now, refunds land in 5 to 7 working days.",
        "Like I mentioned twice now, refunds land in 5 to 7 working days.",
        "impatience",
    ),
    # b2e.38: "I'll find out … get back to you, someone … might get back to you"
    (
        "Honestly I don't know, someone from the other team might get back to you at some point.",
        "Honestly I don't know, someone from the other team might get back to you at some point.",
        "dont_know",
    ),
    # partial rewrites whose untouched clause still refuses (b2h.18, b2h.25, b2t.57)
    (
        "按照平台规则，您必须在签收后48小时内反馈，否则不予处理",
        "按照平台规则，您必须在签收后48小时内反馈，否则不予处理",
        "command",
    ),
    ("您必须去线下门店办理，线上我们不管", "您必须去线下门店办理，线上我们不管", "command"),
    ("你一定要帶埋單據嚟，唔係唔會幫你整", "你一定要帶埋單據嚟，唔係唔會幫你整", "command"),
    # still rewritten: nothing negative left, one offer
    ("您必须先实名认证才可以提现。", "请您先实名认证才可以提现。", None),
    ("Just be patient, it'll ship soon.", "Thank you for your patience, it'll ship within {time}.", None),
    ("It won't take long, it's not a big deal.", "It won't take long, I understand why this matters to you.", None),
    # round 4's own fresh drafts (dev, written after reading the rules): outputs that read worse, now held back
    ("快递的事不归我们，你找顺丰", "快递的事不归我们，你找顺丰", "buck"),
    ("Sorry but policy is policy, no refunds on opened items.", None, "refusal"),
    ("Honestly no idea, someone will email you eventually.", None, "dont_know"),
    ("系统显示已签收，我们这边没办法再查了", None, "refusal"),
    ("我只是客服，价格的事我说了不算", None, "buck"),
    ("您再仔细看看，肯定是您看错了", None, None),
    ("Calm down please, shouting at me won't fix it.", None, "impatience"),
    ("I have no idea why it's delayed, maybe try tracking it yourself.", None, "buck"),
    ("It'll be sorted sometime next week probably.", None, "vague_time"),
    ("Sorry, that's not something we offer, you could try another store.", None, "buck"),
    ("亲，运费险是平台的，不是我们店铺的，理赔您要找平台客服哦", None, "buck"),
    ("我知道你急，但是我也没办法，系统就是这么设定的", None, None),
    ("抱歉，贈品送完就沒了，我們也沒辦法補", None, None),
    ("I'm afraid that's impossible, the system won't let me.", None, None),
    ("I'm not authorized to do that, you need to speak with billing.", None, None),
    ("You should have contacted us within 14 days, now it's too late.", None, None),
    ("Hey, so the thing is we ran out of the large size, no idea when we'll get more.", None, None),
    ("Your package will arrive when it arrives, I can't speed it up.", None, None),
    ("I don't know why the app crashes, it works fine for everyone else.", None, None),
    ("Not my problem, I just answer chats.", None, None),
    ("Sorry we're unable to help with that, it's outside our scope.", None, None),
    ("退款到账时间不确定，您耐心等几天吧", None, None),
    ("That's your responsibility, we just ship what you order.", None, None),
    # ... and fluent ones that stay
    ("已經跟您講過了，運費要自付", "再為您說明一下，運費要自付", None),
    (
        "Your warranty expired so there's nothing we can do.",
        "Your warranty expired so here's what we can do: {solution}.",
        None,
    ),
    # the issue's own two-offer rewrite stays (both offers are the rules' words)
    ("我不知道，您必须自己查，这不是我们的问题。", "我来帮您查一下，查到后马上回复您，我们也会帮您一起跟进。", None),
]


@pytest.mark.parametrize(("draft", "expected", "family"), CASES)
def test_never_worse_than_the_draft(draft: str, expected: str | None, family: str | None) -> None:
    """`expected` None: the draft comes back as written, flagged."""
    result = REWRITER.rewrite(draft)
    assert result.rewritten == (draft if expected is None else expected)
    if expected is None:
        assert any(f.family for f in result.flags)
    if family is not None:
        assert family in {f.family for f in result.flags}
        assert all(f.principle for f in result.flags if f.family)
    assert not REWRITER.rewrite(result.rewritten, lang=result.lang).changed


def test_only_the_bad_sentence_is_held_back() -> None:
    """Another sentence's good rewrite stays."""
    result = REWRITER.rewrite("Just be patient, it'll ship soon. Like I mentioned twice now, refunds take 5 days.")
    assert result.rewritten == (
        "Thank you for your patience, it'll ship within {time}. Like I mentioned twice now, refunds take 5 days."
    )
    assert "impatience" in {f.family for f in result.flags}


@pytest.mark.parametrize("name", ["zh", "en"])
def test_garble_examples(name: str) -> None:
    spec = load_rules(name).language
    assert spec.garbles
    for g in spec.garbles:
        rx = re.compile(g.pattern, spec.re_flags)
        for ex in g.examples:
            assert (rx.search(ex.text) is not None) is ex.fires, (g.id, ex.text)
