"""`assist eval rewrite`: negative drafts fixed, clean drafts untouched, idempotence, per language."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from assist.errors import InvalidInput
from assist.rewrite.clauses import SPLICE_RULE
from assist.rewrite.engine import Rewriter, RewriteResult

# The project's own set lives at the repo root, in eval/ (a tool, not package data).
DEFAULT_SET = Path(__file__).resolve().parents[2] / "eval" / "rewrite.yml"
# Written before the v2 rules and never tuned against (issue 16): scored and reported apart from dev.
BLIND_SET = DEFAULT_SET.with_name("rewrite_blind.yml")

# Things a rewrite must never lose: anything with a digit (amounts, dates, order ids), URLs, e-mails, emoji.
_PRESERVE = re.compile(
    r"https?://\S+|[\w.+-]+@[\w-]+\.[\w.]+|[A-Za-z#$€¥£]*\d[\w\-./:%]*|[\U0001F300-\U0001FAFF\u2600-\u27BF]"
)


class Draft(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    lang: str
    text: str
    negative: list[str] = []  # phrasing that must not survive; empty = a clean draft
    keep: list[str] = []  # meaning that must survive
    flag: bool = False  # cannot be rewritten safely: handled when flagged
    split: str = "dev"  # "dev": written before the rules; "holdout": written after, never tuned against
    families: list[str] = []  # negative families present (blind set); empty with no `negative` = clean
    expect: str | None = None  # the hand-written whole rewrite (a reference, compared exactly)

    @property
    def kind(self) -> str:
        return "flag" if self.flag else "negative" if self.negative or self.families else "clean"


def load_set(path: Path) -> list[Draft]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return [Draft.model_validate(d) for d in raw]
    except (OSError, yaml.YAMLError, ValidationError, TypeError) as exc:
        raise InvalidInput(f"{path}: not a rewrite eval set: {exc}") from exc


@dataclass
class Tally:
    negative: int = 0
    fixed: int = 0
    flagged_instead: int = 0  # negative drafts left as written and flagged with a family: honest, not garbled
    as_expected: int = 0  # rewrites equal to the hand-written expected text (drafts that have one)
    with_expect: int = 0
    flag_expected: int = 0
    flagged: int = 0
    clean: int = 0
    clean_changed: int = 0
    drafts: int = 0
    idempotent: int = 0

    def as_dict(self) -> dict[str, Any]:
        def pct(a: int, b: int) -> float | None:
            return round(100 * a / b, 1) if b else None

        return {
            "drafts": self.drafts,
            "negative": self.negative,
            "fixed": self.fixed,
            "fixed_pct": pct(self.fixed, self.negative),
            "flagged_instead": self.flagged_instead,
            "handled": self.fixed + self.flagged_instead,
            "handled_pct": pct(self.fixed + self.flagged_instead, self.negative),
            "as_expected": self.as_expected,
            "with_expect": self.with_expect,
            "flag_expected": self.flag_expected,
            "flagged": self.flagged,
            "clean": self.clean,
            "clean_untouched": self.clean - self.clean_changed,
            "clean_changed": self.clean_changed,
            "idempotent": self.idempotent,
            "idempotent_pct": pct(self.idempotent, self.drafts),
        }


@dataclass
class Report:
    set: str
    overall: Tally = field(default_factory=Tally)
    by_lang: dict[str, Tally] = field(default_factory=dict)
    by_split: dict[str, Tally] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "set": self.set,
            "overall": self.overall.as_dict(),
            "by_lang": {k: v.as_dict() for k, v in sorted(self.by_lang.items())},
            "by_split": {k: v.as_dict() for k, v in sorted(self.by_split.items())},
            "failures": self.failures,
        }


def _problems(d: Draft, rewritten: str) -> list[str]:
    """Why a negative draft does not count as fixed (empty when it does)."""
    out = []
    if rewritten == d.text:
        out.append("unchanged")
    out += [f"still says {n!r}" for n in d.negative if n in rewritten]
    out += [f"lost {k!r}" for k in d.keep if k not in rewritten]
    out += [f"lost {t!r}" for t in _PRESERVE.findall(d.text) if t not in rewritten]
    return out


def _family_flagged(result: RewriteResult) -> bool:
    return not result.changed and any(f.family or f.rule == SPLICE_RULE for f in result.flags)


def evaluate(rewriter: Rewriter, drafts: Iterable[Draft], name: str = "") -> Report:
    """Rewrite every draft with language detection on (as agents use it) and score it."""
    report = Report(name)
    for d in drafts:
        result = rewriter.rewrite(d.text)
        again = rewriter.rewrite(result.rewritten, lang=result.lang)
        problems: list[str] = []
        tallies = (
            report.overall,
            report.by_lang.setdefault(d.lang, Tally()),
            report.by_split.setdefault(d.split, Tally()),
        )
        for t in tallies:
            t.drafts += 1
            t.idempotent += not again.changed
        if d.kind == "clean":
            changed = result.changed
            for t in tallies:
                t.clean += 1
                t.clean_changed += changed
            if changed:
                problems.append("clean draft changed")
        elif d.kind == "flag":
            ok = bool(result.flags) or (result.changed and not _problems(d, result.rewritten))
            for t in tallies:
                t.flag_expected += 1
                t.flagged += ok
            if not ok:
                problems.append("not flagged")
        else:
            problems = _problems(d, result.rewritten)
            flagged = bool(problems) and _family_flagged(result)
            for t in tallies:
                t.negative += 1
                t.fixed += not problems
                t.flagged_instead += flagged
            if flagged:
                problems = []
        if d.expect is not None or d.kind == "clean":
            expected = d.text if d.expect is None else d.expect
            for t in tallies:
                t.with_expect += 1
                t.as_expected += result.rewritten == expected
        if again.changed:
            problems.append("not idempotent")
        if problems:
            report.failures.append(
                {
                    "id": d.id,
                    "split": d.split,
                    "kind": d.kind,
                    "problems": problems,
                    "text": d.text,
                    "rewritten": result.rewritten,
                }
            )
    return report
