"""Clauses, sentences and negative families: what the v2 engine checks before it offers a rewrite.

A rewrite is offered sentence by sentence. A sentence's edits are kept only when
- no clause in it was edited by two different rules (two templates spliced into one clause), and
- every negative phrase detected in it (families.yml, broad) lies under one of its edits.
Otherwise the sentence is left as the agent wrote it and its negative phrases are flagged with their
family, principle and situation: a partial rewrite next to an untouched refusal reads as a contradiction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from assist.errors import AssistError
from assist.rewrite.prefilter import ALWAYS, Needs, Prefilter, allowed
from assist.rewrite.rules import Family

SPLICE_RULE = "engine.one_rule_per_clause"
SPLICE_WHY = {
    "zh": "同一分句里有两处需要改的说法，没有现成的整句改写：请手动改写这一句。",
    "en": "Two negative phrases share one clause and no whole-clause rewrite fits: please reword this sentence.",
}


@dataclass(frozen=True, slots=True)
class Detector:
    family: Family
    regex: re.Pattern[str]
    rule: str  # "<folder>.family.<name>", the id a flag carries
    needs: Needs = ALWAYS  # prefilter: literal strings a match must contain
    order: int = 0  # the family's position, then the pattern's: one family's patterns act as one alternation


@dataclass(frozen=True, slots=True)
class Hit:
    start: int
    end: int
    detector: Detector


def compile_families(
    folder: str, families: Iterable[Family], flags: int, prefilter: Prefilter | None = None
) -> list[Detector]:
    """One detector per top-level alternative of each pattern, in order, so the prefilter can skip each on its
    own literals (a family joined into one regex runs whenever any of its alternatives might match)."""
    pf = prefilter or Prefilter(flags)
    out = []
    for i, f in enumerate(families):
        alts = [a for p in f.patterns for a in top_level_alternatives(p)]
        for j, a in enumerate(alts):
            out.append(Detector(f, re.compile(a, flags), f"{folder}.family.{f.family}", pf.add(a), 1000 * i + j))
    return out


def top_level_alternatives(pattern: str) -> list[str]:
    """`a|b|(c|d)` → `a`, `b`, `(c|d)`: the branches of the pattern's outermost alternation, in order."""
    parts: list[str] = []
    depth = 0
    in_class = False
    start = 0
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
            # a "]" right after "[" or "[^" is a literal
            if i + 1 < n and pattern[i + 1] == "^":
                i += 1
            if i + 1 < n and pattern[i + 1] == "]":
                i += 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


def clause_starts(text: str, brk: re.Pattern[str]) -> list[int]:
    """Where clauses start: the draft's start and after every clause break, past white space."""
    starts = []
    pos = 0
    n = len(text)
    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos < n:
            starts.append(pos)
        m = brk.search(text, pos)
        if m is None:
            return starts
        pos = m.end() if m.end() > pos else pos + 1


def clause_spans(text: str, brk: re.Pattern[str], start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Clauses of text[start:end] as (start, end) with their trailing break included."""
    end = len(text) if end is None else end
    out: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        m = brk.search(text, pos, end)
        stop = m.end() if m and m.end() > pos else end
        if text[pos:stop].strip():
            out.append((pos, stop))
        pos = stop if stop > pos else pos + 1
    return out


def detect(subject: str, detectors: Sequence[Detector], present: frozenset[str] | None = None) -> list[Hit]:
    """Every negative phrase of every family (overlaps kept: families may share words).

    `present`: the prefilter's strings found in `subject` (Prefilter.present); a detector whose conditions it
    does not meet cannot match and is skipped. None runs every detector.
    """
    found = sorted(
        (
            Hit(m.start(), m.end(), d)
            for d in detectors
            if present is None or allowed(d.needs, present)
            for m in d.regex.finditer(subject)
            if m.end() > m.start()
        ),
        key=lambda h: (h.start, h.detector.order),
    )
    # Within a family, leftmost first and no overlaps, as when its patterns were one alternation.
    last_end: dict[int, int] = {}
    hits = []
    for h in found:
        fam = h.detector.order // 1000
        if h.start >= last_end.get(fam, 0):
            hits.append(h)
            last_end[fam] = h.end
    hits.sort(key=lambda h: (h.detector.order // 1000, h.start))
    return hits


def overlaps(s1: int, e1: int, s2: int, e2: int) -> bool:
    return (s1 < e2 and s2 < e1) or s1 == s2


def situation_of(text: str, code: str) -> str | None:
    """The situation a flagged sentence concerns (for matching bank phrases), or None."""
    from assist.retrieval.situation import detect_situations  # imported late: only flags need it

    try:
        hits = detect_situations(text, code)
    except AssistError:  # a language without situation cue files simply has no situation
        return None
    return hits[0].situation if hits else None
