"""Family detectors: one per top-level alternative, detecting what the family's joined regex detects."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from assist.rewrite import Rewriter, clauses
from assist.rewrite.clauses import top_level_alternatives

CORPUS = Path(__file__).resolve().parents[2] / "eval" / "rewrite_corpus.yml"


def test_top_level_alternatives_respect_groups_classes_and_escapes() -> None:
    assert top_level_alternatives(r"a|b(?:c|d)|[|\]]x|\|y|(?<=[，,])z") == [
        "a",
        "b(?:c|d)",
        r"[|\]]x",
        r"\|y",
        "(?<=[，,])z",
    ]
    assert top_level_alternatives(r"[^]|]a|b") == ["[^]|]a", "b"]
    assert top_level_alternatives("abc") == ["abc"]


def test_split_detectors_find_what_the_joined_family_regex_finds() -> None:
    rewriter = Rewriter.load()
    texts = [d["text"] for d in yaml.safe_load(CORPUS.read_text(encoding="utf-8"))]
    for lang in rewriter.langs if isinstance(rewriter.langs, (list, tuple)) else rewriter.langs.values():
        flags = lang.spec.re_flags
        families = [d.family for d in lang.detectors]
        joined = {f.family: re.compile(f.pattern, flags) for f in families}
        for text in texts:
            want = sorted(
                (m.start(), m.end(), name)
                for name, rx in joined.items()
                for m in rx.finditer(text)
                if m.end() > m.start()
            )
            got = sorted((h.start, h.end, h.detector.family.family) for h in clauses.detect(text, lang.detectors))
            assert got == want, (lang.name, text)
