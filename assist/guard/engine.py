"""The guard's matcher: forbidden expressions over a draft, must-say checks over the conversation.

Built from the active rules (a snapshot, read-only, shared between threads); a change of rules builds a new
one (assist.guard.service). Matching is on the folded draft (assist.guard.fold), so 繁/简, full/half width and
case do not matter and every span points into the draft as typed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assist.guard.fold import fold


@dataclass(frozen=True, slots=True)
class GuardHit:
    kind: str  # forbidden | must_say
    category: str
    severity: str  # warn | block
    start: int
    end: int
    text: str
    why: str
    rule: str  # the rule's key
    phrases: tuple[str, ...] = ()  # must_say: what would satisfy the check

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "category": self.category,
            "severity": self.severity,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "why": self.why,
            "rule": self.rule,
            "phrases": list(self.phrases),
        }


@dataclass(frozen=True, slots=True)
class _Rule:
    key: str
    kind: str
    category: str
    severity: str
    phrases: tuple[str, ...]  # as written
    folded: tuple[str, ...]
    exceptions: tuple[str, ...]  # folded
    when: str | None
    triggers: tuple[str, ...]  # folded
    reply: int | None
    teams: frozenset[str]
    langs: frozenset[str]
    why: str

    def applies(self, team: str | None, lang: str | None) -> bool:
        if self.langs and lang is not None and lang not in self.langs:
            return False
        return not self.teams or (team is not None and team in self.teams)


def _wordy(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


@dataclass(slots=True)
class _Needle:
    text: str
    rule: int
    left: bool  # starts with an ASCII word character: must not follow one
    right: bool


@dataclass
class Guard:
    """Compiled rules. `check` is pure and thread-safe."""

    rules: list[_Rule] = field(default_factory=list)
    _index: dict[str, list[_Needle]] = field(default_factory=dict)
    _must: list[int] = field(default_factory=list)

    @classmethod
    def build(cls, rules: Iterable[Mapping[str, Any]]) -> Guard:
        """From rule records (GuardStore.active(), shipped entries): key, kind, category, severity, phrases,
        exceptions, when, triggers, reply, teams, why."""
        g = cls()
        for r in rules:
            rule = _Rule(
                key=r["key"],
                kind=r["kind"],
                category=r["category"],
                severity=r["severity"],
                phrases=tuple(r["phrases"]),
                folded=tuple(fold(p) for p in r["phrases"]),
                exceptions=tuple(fold(e) for e in r.get("exceptions") or ()),
                when=r.get("when"),
                triggers=tuple(fold(t) for t in r.get("triggers") or ()),
                reply=r.get("reply"),
                teams=frozenset(r.get("teams") or ()),
                langs=frozenset(r.get("langs") or ()),
                why=r["why"],
            )
            n = len(g.rules)
            g.rules.append(rule)
            if rule.kind == "must_say":
                g._must.append(n)
                continue
            for needle in rule.folded:
                g._index.setdefault(needle[0], []).append(_Needle(needle, n, _wordy(needle[0]), _wordy(needle[-1])))
        for needles in g._index.values():
            needles.sort(key=lambda nd: -len(nd.text))
        return g

    def __len__(self) -> int:
        return len(self.rules)

    def check(
        self, text: str, replies: Sequence[str] | None = None, team: str | None = None, lang: str | None = None
    ) -> list[GuardHit]:
        """Hits in `text`, sorted by position.

        Args:
            text: the draft.
            replies: the agent's earlier replies in the conversation, oldest first; None when the conversation is
                not known (then only checks that need no history run: forbidden expressions and closings).
            team: the sender's team; team-scoped rules apply to their team only.
            lang: the draft's language code; rules with `langs` apply to those only (None: every rule).
        """
        folded = fold(text)
        hits = self._forbidden(text, folded, team, lang)
        if self._must:
            hits.extend(self._must_say(text, folded, replies, team, lang))
        hits.sort(key=lambda h: (h.start, h.end, h.rule))
        return hits

    def _forbidden(self, text: str, folded: str, team: str | None, lang: str | None) -> list[GuardHit]:
        found: dict[int, list[tuple[int, int]]] = {}
        index = self._index
        size = len(folded)
        for i, ch in enumerate(folded):
            needles = index.get(ch)
            if needles is None:
                continue
            for nd in needles:
                if not folded.startswith(nd.text, i):
                    continue
                end = i + len(nd.text)
                if nd.left and i > 0 and _wordy(folded[i - 1]):
                    continue
                if nd.right and end < size and _wordy(folded[end]):
                    continue
                rule = self.rules[nd.rule]
                if not rule.applies(team, lang) or _excepted(folded, i, end, rule.exceptions):
                    continue
                spans = found.setdefault(nd.rule, [])
                if any(s <= i and end <= e for s, e in spans):
                    continue  # inside a longer phrase of the same rule
                spans.append((i, end))
        hits = []
        for n, spans in found.items():
            rule = self.rules[n]
            for s, e in spans:
                hits.append(GuardHit("forbidden", rule.category, rule.severity, s, e, text[s:e], rule.why, rule.key))
        return hits

    def _must_say(
        self, text: str, folded: str, replies: Sequence[str] | None, team: str | None, lang: str | None
    ) -> list[GuardHit]:
        hits = []
        for n in self._must:
            rule = self.rules[n]
            if not rule.applies(team, lang) or _says(folded, rule.folded):
                continue
            if rule.when == "closing":
                at = _first(folded, rule.triggers)
                if at is not None:
                    s, e = at
                    hits.append(self._missing(rule, s, e, text[s:e]))
            elif replies is None:
                continue
            elif rule.when == "first_reply" and not replies:
                hits.append(self._missing(rule, 0, 0, ""))
            elif rule.when == "by_reply" and rule.reply is not None and len(replies) + 1 >= rule.reply:
                if not any(_says(fold(r), rule.folded) for r in replies):
                    hits.append(self._missing(rule, 0, 0, ""))
        return hits

    @staticmethod
    def _missing(rule: _Rule, start: int, end: int, text: str) -> GuardHit:
        return GuardHit("must_say", rule.category, rule.severity, start, end, text, rule.why, rule.key, rule.phrases)


def _excepted(folded: str, start: int, end: int, exceptions: tuple[str, ...]) -> bool:
    """Whether an exception's occurrence covers [start, end) (死 inside 死机)."""
    for exc in exceptions:
        j = folded.find(exc, max(0, end - len(exc)))
        while j != -1 and j <= start:
            if j + len(exc) >= end:
                return True
            j = folded.find(exc, j + 1)
    return False


def _find(folded: str, needle: str) -> int:
    """The first occurrence of `needle` as a whole word where its edges are ASCII word characters; -1 if none."""
    left, right = _wordy(needle[0]), _wordy(needle[-1])
    j = folded.find(needle)
    while j != -1:
        end = j + len(needle)
        if not (left and j > 0 and _wordy(folded[j - 1])) and not (right and end < len(folded) and _wordy(folded[end])):
            return j
        j = folded.find(needle, j + 1)
    return -1


def _says(folded: str, phrases: tuple[str, ...]) -> bool:
    return any(_find(folded, p) != -1 for p in phrases)


def _first(folded: str, needles: tuple[str, ...]) -> tuple[int, int] | None:
    best: tuple[int, int] | None = None
    for nd in needles:
        j = _find(folded, nd)
        if j != -1 and (best is None or j < best[0]):
            best = (j, j + len(nd))
    return best
