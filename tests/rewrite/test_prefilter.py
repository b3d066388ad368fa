"""The rule prefilter (assist/rewrite/prefilter.py): conditions drawn from patterns, never wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from assist.rewrite import Rewriter
from assist.rewrite.prefilter import Prefilter, allowed, conditions, fold

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("pattern", "flags", "expected"),
    [
        ("(?:我们|我)?(?:真的)?(?:做不到|办不到|弄不了)(?:的|啊)?", 0, [[{"做不到", "办不到", "弄不了"}]]),
        (r"\b(?:please )?(?:calm down|relax)\b", re.IGNORECASE, [[{"calm down", "relax"}]]),
        ("(?:您|你)(?:必须|务必)", 0, [[{"必须", "务必"}, {"您", "你"}]]),
        ("[着著]急", 0, [[{"急"}, {"着", "著"}]]),
        ("You MUST", re.IGNORECASE, [[{"you must"}]]),
        (
            "(?:不行)|(?:您|你)(?:必须|务必)|冷静",
            0,
            [[{"不行"}], [{"必须", "务必"}, {"您", "你"}], [{"冷静"}]],
        ),  # a top-level alternation: one conjunction per branch
        ("a?b*", 0, [[]]),  # can match without a literal: always runs
        (r"(?<=x)[^，]{1,3}\s+\d", 0, [[]]),  # lookbehind, negated and wide classes: nothing required
        ("(?i:abc)|def", 0, [[]]),  # local flags: no conditions
        ("ab|c?", 0, [[]]),  # an alternative without a condition
        ("ſtop", re.IGNORECASE, [[]]),  # a cased non-ASCII literal is not compared on the folded view
    ],
)
def test_conditions(pattern: str, flags: int, expected: list[list[set[str]]]) -> None:
    assert [[set(c) for c in alt] for alt in conditions(pattern, flags)] == expected


def test_fold_maps_what_re_matches_to_ascii_letters() -> None:
    assert fold("CALM Down") == "calm down"
    assert fold("\u212aeep calm ſtop İt ıt ’") == "keep calm stop it it ’"
    assert fold("É") == "É"
    pf = Prefilter(re.IGNORECASE)
    needs = pf.add(r"\bkeep\b")
    assert re.search(r"\bkeep\b", "\u212aEEP", re.IGNORECASE) and allowed(needs, pf.present("\u212aEEP"))


def test_a_rule_skipped_by_the_prefilter_never_matches() -> None:
    """Every rule and family pattern, on every example and corpus draft: a match implies the prefilter allows it."""
    rewriter = Rewriter.load()
    texts = [d["text"] for d in yaml.safe_load((ROOT / "eval" / "rewrite_corpus.yml").read_text(encoding="utf-8"))]
    texts += [ex.text for rule in rewriter.rules for ex in rule.examples]
    checked = 0
    for lang in rewriter.langs:
        compiled = [*lang.rewrites, *lang.clauses, *lang.flaggers]
        items = [(c.rule.id, c.regex, c.needs) for c in compiled] + [(d.rule, d.regex, d.needs) for d in lang.detectors]
        assert sum(1 for _, _, needs in items if all(needs)) > 0.9 * len(items)  # nearly every pattern has some
        for text in texts:
            present = lang.prefilter.present(text)
            for index, rules in ((lang.rewrite_index, lang.rewrites), (lang.clause_index, lang.clauses)):
                assert index.allowed(present) == [c for c in rules if allowed(c.needs, present)]
            for rule_id, regex, needs in items:
                if regex.search(text):
                    checked += 1
                    assert allowed(needs, present), (rule_id, text)
    assert checked > 500
