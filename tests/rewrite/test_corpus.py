"""The rewrite corpus (eval/rewrite_corpus.yml): every draft's whole output equals its expected text."""

from __future__ import annotations

from pathlib import Path

import yaml

from assist.rewrite import Rewriter

CORPUS = Path(__file__).resolve().parents[2] / "eval" / "rewrite_corpus.yml"


def test_every_corpus_draft_comes_out_as_expected() -> None:
    rewriter = Rewriter.load()
    drafts = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    assert len(drafts) >= 400 and len({d["id"] for d in drafts}) == len(drafts)
    wrong = []
    for d in drafts:
        result = rewriter.rewrite(d["text"])
        expected = d.get("expect", d["text"])
        problems = []
        if result.rewritten != expected:
            problems.append(f"got {result.rewritten!r}")
        if d.get("flag") and not any(
            f.family or f.rule.endswith(("sarcasm.v1", "one_rule_per_clause")) for f in result.flags
        ):
            problems.append("not flagged")
        # The learned flagger (round 4) may add its flags to negative drafts, never to clean ones.
        clean = not (d.get("families") or d.get("flag"))
        if clean and any(".learned." in f.rule for f in result.flags):
            problems.append("clean draft flagged by the learned flagger")
        if rewriter.rewrite(result.rewritten, lang=result.lang).changed:
            problems.append("not idempotent")
        if result.lang != d["lang"]:
            problems.append(f"detected as {result.lang}")
        if problems:
            wrong.append(f"{d['id']}: {'; '.join(problems)}")
    assert not wrong, "\n".join(wrong)
