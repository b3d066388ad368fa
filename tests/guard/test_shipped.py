"""Every shipped guard rule's examples (assist/languages/<name>/guard.yml), and each zh example in the other
script: the rule must fire exactly on the examples marked `fires`."""

from __future__ import annotations

import pytest

from assist.guard.engine import Guard
from assist.guard.schema import ShippedRule
from assist.guard.shipped import load_shipped
from assist.lang import to_traditional

RULES = load_shipped()


def test_shipped_rules_load_with_unique_keys_and_known_seeds() -> None:
    from importlib import resources

    import yaml

    sources = yaml.safe_load(resources.files("assist.rewrite").joinpath("data/sources.yml").read_text("utf-8"))
    assert len({r.key for r in RULES}) == len(RULES) >= 10
    assert {r.kind for r in RULES} == {"forbidden", "must_say"}
    for r in RULES:
        assert r.source is None or r.source.seed in sources, r.key
        assert r.langs, r.key  # a language's rules apply to its drafts


@pytest.mark.parametrize("rule", RULES, ids=[r.key for r in RULES])
def test_shipped_rule_examples(rule: ShippedRule) -> None:
    guard = Guard.build([rule.model_dump()])
    for ex in rule.examples:
        lang = ex.lang or rule.langs[0]
        hits = guard.check(ex.text, ex.replies, ex.team, lang)
        assert bool(hits) == ex.fires, (ex.text, hits)
        for h in hits:
            assert h.text == ex.text[h.start : h.end]
        if rule.key.startswith("zh."):  # the same in Traditional
            trad = guard.check(to_traditional(ex.text), [to_traditional(r) for r in ex.replies], ex.team, "zh-Hant")
            assert bool(trad) == ex.fires, (to_traditional(ex.text), trad)


def test_shipped_rules_do_not_cross_languages() -> None:
    guard = Guard.build([r.model_dump() for r in RULES])
    hits = guard.check("订单已经发出了。", [], None, "zh-Hans")
    assert [h.rule for h in hits] == ["zh.must.greeting"]
    hits = guard.check("Your order shipped.", [], None, "en")
    assert [h.rule for h in hits] == ["en.must.greeting"]
