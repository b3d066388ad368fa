"""The learned flagger behind the rules (round 4): loads with numpy, only flags, never rewrites."""

from __future__ import annotations

import pytest

from assist.rewrite import Rewriter
from assist.rewrite.learned import CLEAN, Flagger, features

FLAGGER = Flagger.load()
REWRITER = Rewriter.load()
RULES_ONLY = Rewriter.load(learned=False)

pytestmark = pytest.mark.skipif(FLAGGER is None, reason="no flagger shipped (assist train flagger)")


def test_the_shipped_model_has_a_head_per_language() -> None:
    assert FLAGGER is not None
    for name in ("zh", "en"):
        head = FLAGGER.heads[name]
        assert CLEAN in head.classes and len(head.classes) > 5
        assert 0.5 <= head.threshold <= 1.0


def test_features_are_ngrams() -> None:
    assert {"<", "不", "不行", "<不行"} <= set(features("不行", "zh"))
    assert {"w:can't", "b:can't do", "c:<do"} <= set(features("Can’t do", "en"))


def test_a_learned_flag_leaves_the_sentence_as_written() -> None:
    """Found by the flagger on drafts the rules missed (dev: eval/rewrite_blind2.yml, held out from training)."""
    found = 0
    for draft in MISSED_BY_RULES:
        assert not RULES_ONLY.rewrite(draft).flags
        result = REWRITER.rewrite(draft)
        learned = [f for f in result.flags if ".learned." in f.rule]
        if learned:
            found += 1
            assert not result.changed
            for f in learned:
                assert f.family and f.principle and f.rule.endswith(f.family)
                assert draft[f.start : f.end] == f.text and f.text.strip() == f.text
    assert found >= len(MISSED_BY_RULES) // 2


def test_clean_look_alikes_are_not_flagged() -> None:
    for draft in CLEAN_DRAFTS:
        result = REWRITER.rewrite(draft)
        assert not result.changed and not [f for f in result.flags if ".learned." in f.rule], draft


MISSED_BY_RULES = [
    "刷退的問題請您自己打給發卡銀行問",
    "這是原廠的規定，我們也只能照做",
    "可能明天吧，也可能後天，不一定",
    "再等等，應該快到了",
    "The payment bounced because you typed your card digits wrong.",
    "That's handled by our billing team, not me.",
    "sorry, that's outside what I'm able to do",
]
CLEAN_DRAFTS = [
    "您好，请问有什么可以帮您？",
    "好的，已经帮您登记了，预计明天发货。",
    "Thanks for waiting, your refund was issued today.",
    "Happy to help! Is there anything else I can do for you?",
]
