"""Every example of every rule file: rewrites fire with the expected output, the others do not fire."""

from __future__ import annotations

from typing import Any

import pytest

from assist.lang import to_traditional
from assist.rewrite import Rewriter, Rule, load_rules
from assist.rewrite.rules import Example, available_languages

REWRITER = Rewriter.load()
CASES: list[Any] = [
    pytest.param(rule, ex, id=f"{rule.id}[{i}]")
    for name in available_languages()
    for rule in load_rules(name).rules
    for i, ex in enumerate(rule.examples)
]


@pytest.mark.parametrize(("rule", "example"), CASES)
def test_rule_example(rule: Rule, example: Example) -> None:
    assert REWRITER.fires(rule.id, example.text) is example.must_fire
    result = REWRITER.rewrite(example.text)
    if example.expect is not None:
        assert result.rewritten == example.expect
        assert not REWRITER.rewrite(result.rewritten, lang=result.lang).changed, "rewrite is not idempotent"
    if rule.is_flag and example.must_fire:
        assert rule.id in {f.rule for f in result.flags}


def test_every_language_has_sixty_rules() -> None:
    for name in available_languages():
        assert len(load_rules(name).rules) >= 60, name


def test_zh_examples_work_in_traditional() -> None:
    """Rules are written in Simplified; the same drafts in Traditional come back Traditional."""
    rules = [r for r in load_rules("zh").rules if r.replace and (not r.codes or "zh-Hant" in r.codes)]
    zh = [ex for rule in rules for ex in rule.examples if ex.expect]
    for ex in zh:
        trad = to_traditional(ex.text)
        result = REWRITER.rewrite(trad, lang="zh-Hant")
        assert result.changed, trad
        assert result.rewritten == to_traditional(result.rewritten), result.rewritten
