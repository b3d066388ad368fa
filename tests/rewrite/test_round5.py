"""Round 5 (docs/rewrite.md): the classes behind the third blind set's bad and partial outputs, and drafts the
family detectors now see.

The drafts marked b3… are from eval/rewrite_blind3.yml, development data since its one scoring run (10:11 UTC,
2026-12-02); the others are fresh drafts in the same spirit, written for this round, with look-alikes that must
stay untouched.
"""

from __future__ import annotations

import pytest

from assist.rewrite import Rewriter

REWRITER = Rewriter.load()

# (draft, a family the flags must carry): each comes back as written
HELD_BACK = [
    # bad outputs
    ("骑手不可能偷吃的，餐品都是封口的", "denial"),  # b3h.08: the denial template on a third party's act
    ("快递员不可能今天送到", None),  # the same class, fresh: no template after a third party
    ("你自己输错了验证码还怪我们？", "blame"),  # b3h.29: filled_wrong cutting into a rhetorical question
    ("拜託您先聽我說完好嗎", "command"),  # b3t.20: 拜託 + a promise
    ("Thats an issue with your bank, pls contact them", "buck"),  # b3e.03: a template after "pls"
    ("Look, I don't know what else to tell you.", "impatience"),  # b3e.49: nothing to find out
    ("no idea, maybe ask the store", None),  # fresh: "maybe I'll get in touch"
    ("it's not our fault the courier was late", None),  # fresh: the template ran into the clause
    ("没货了，别等了", "impatience"),  # fresh: an offer before a dismissal
    ("这个价格已经是底价了，再低做不到", None),  # fresh: a template after the draft's own adverb
    ("系统升级中，今天都办不了", None),  # fresh: the same class
    ("你要的那个型号我们不卖", "refusal"),  # fresh: a swap-only rewrite that kept the refusal
    # partial outputs: an element the rewrite kept
    ("工程师这两天会联系你的", "vague_time"),  # b3h.04
    ("退款到账慢要问银行，跟我们没关系", "buck"),  # b3h.10
    ("你应该先看清楚套餐说明再办理的，现在改要收违约金", "command"),  # b3h.11
    ("修着呢 您急我们也快不了 回头再说", "impatience"),  # b3h.47
    ("依規定您必須先繳清欠費才能復話", "command"),  # b3t.24
    ("You should've read the cancellation policy before booking, you need to pay the fee now.", "blame"),  # b3e.11
    ("That's the courier's responsibility, they'll contact you at some point", "buck"),  # b3e.26
    ("You need to wait 7-10 business days, nothing more to do", "refusal"),  # b3e.45
    ("There's nothing wrong with the meter, the bill will sort itself out eventually", "denial"),  # b3e.50
    ("我們這邊沒權限，你要找總公司", "refusal"),  # fresh
]


@pytest.mark.parametrize(("draft", "family"), HELD_BACK)
def test_held_back_and_flagged(draft: str, family: str | None) -> None:
    result = REWRITER.rewrite(draft)
    assert not result.changed, result.rewritten
    assert result.flags
    if family is not None:
        assert family in {f.family for f in result.flags}, result.flags


MISSES = [
    "先付款再说",
    "先把订单号发来再说",
    "这边不给开专票的",
    "學期中不開放轉班",
    "物流的事找顺丰吧",
    "我哋呢度係sales，技術嘢唔識，打去hotline啦",
    "八達通增值機壞咗，暫時用唔到",
    "呢個優惠唔適用於你張卡",
    "要退就自己寄返嚟啦",
    "nah not doing that, sry",
    "Not aware of any outage, should be fine on our end",
    "Sorry, the instructor slots for December are gone.",
    "Go to the help center and open a ticket yourself",
    "We don't handle that here, call the hotline",
    "it'll be ready when it's ready",
]


@pytest.mark.parametrize("draft", MISSES)
def test_missed_drafts_are_now_flagged(draft: str) -> None:
    result = REWRITER.rewrite(draft)
    assert not result.changed and any(f.family for f in result.flags), result


CLEAN = [
    "请您先付款，付款后我们马上安排发货。",
    "周末也开放预约，您可以直接在小程序选时间。",
    "我们会帮您联系京东售后，今天下午三点前给您回电。",
    "我哋即刻幫你跟進，半個鐘內覆你。",
    "以您收到的短信为准，验证码五分钟内有效。",
    "一件都没有少，我们核对过了。",
    "I've opened a ticket for you, the reference is 48213.",
    "I'm aware of the outage and our engineers are on it; it should be back by 4pm.",
    "Nothing else is needed from you, we'll take it from here.",
    "Let me finish checking your order and I'll update you in five minutes.",
    "I'm afraid the flight is fully booked, and I can put you on the waitlist.",
]


@pytest.mark.parametrize("draft", CLEAN)
def test_clean_look_alikes_untouched(draft: str) -> None:
    result = REWRITER.rewrite(draft)
    assert not result.changed and not result.flags, result
