"""Every negative family's examples (families.yml): detected where they say, in Simplified and Traditional."""

from __future__ import annotations

from typing import Any

import pytest

from assist.lang import to_traditional
from assist.rewrite import Rewriter, load_rules
from assist.rewrite.rules import available_languages

REWRITER = Rewriter.load()
CASES: list[Any] = [
    pytest.param(name, fam.family, ex.text, ex.fires, id=f"{name}.{fam.family}[{i}]")
    for name in available_languages()
    for fam in load_rules(name).families
    for i, ex in enumerate(fam.examples)
]
FAMILIES = {
    "refusal",
    "blame",
    "buck",
    "command",
    "impatience",
    "denial",
    "dont_know",
    "vague_time",
    "unavailable",
    "policy",
}


@pytest.mark.parametrize(("folder", "family", "text", "fires"), CASES)
def test_family_example(folder: str, family: str, text: str, fires: bool) -> None:
    codes = ["zh-Hans", "zh-Hant"] if folder == "zh" else [folder]
    for code in codes:
        draft = to_traditional(text) if code == "zh-Hant" else text
        found = {f for _, _, f in REWRITER.detect(draft, code)}
        assert (family in found) is fires, (code, draft, found)


@pytest.mark.parametrize("folder", available_languages())
def test_every_language_detects_every_family(folder: str) -> None:
    assert {f.family for f in load_rules(folder).families} == FAMILIES
