"""One compiled regex per entry list: finds entry hits with spans, negation and intensifier factors."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from assist.analysis.schema import Entry, Manifest

E = TypeVar("E", bound=Entry)

_ASCII_WORD = re.compile(r"[A-Za-z0-9]")


@dataclass(frozen=True, slots=True)
class Hit(Generic[E]):
    entry: E
    start: int
    end: int
    negated: bool = False
    factor: float = 1.0


def _term_regex(term: str, word_boundaries: bool) -> str:
    wildcard = term.endswith("*")
    body = re.escape(term.rstrip("*"))
    body = body.replace(r"\ ", r"\s+")
    if wildcard:
        body += r"[a-z'’]*"
    if word_boundaries:
        if _ASCII_WORD.match(term[0]):
            body = r"(?<![A-Za-z0-9])" + body
        if wildcard or _ASCII_WORD.match(term.rstrip("*")[-1]):
            body += r"(?![A-Za-z0-9])"
    return body


class Matcher(Generic[E]):
    """All entries of one file of one language folder, alternatives longest first, case-insensitive."""

    def __init__(self, entries: Sequence[E], manifest: Manifest) -> None:
        self.manifest = manifest
        alts: list[tuple[int, str, E]] = []
        for entry in entries:
            for pattern in entry.patterns:
                alts.append((1000, pattern, entry))
            for term in entry.terms:
                alts.append((len(term), _term_regex(term, manifest.word_boundaries), entry))
        alts.sort(key=lambda a: -a[0])
        # The same term in two entries (one word, two dimensions) is one alternative that hits both.
        self._entries: dict[str, list[E]] = {}
        by_regex: dict[str, str] = {}
        parts = []
        for _, regex, entry in alts:
            name = by_regex.get(regex)
            if name is None:
                name = by_regex[regex] = f"g{len(parts)}"
                parts.append(f"(?P<{name}>{regex})")
                self._entries[name] = []
            if entry not in self._entries[name]:
                self._entries[name].append(entry)
        self._re = re.compile("|".join(parts), re.IGNORECASE) if parts else None
        self._neg = re.compile(manifest.negators, re.IGNORECASE) if manifest.negators else None
        self._brk = re.compile(manifest.clause_break)
        self._int = re.compile(manifest.intensifiers.pattern, re.I) if manifest.intensifiers else None
        self._dim = re.compile(manifest.diminishers.pattern, re.I) if manifest.diminishers else None

    def _prefix(self, norm: str, start: int) -> str:
        prefix = norm[max(0, start - self.manifest.negation_window) : start]
        cut = None
        for cut in self._brk.finditer(prefix):
            pass
        return prefix[cut.end() :] if cut else prefix

    def find(self, norm: str) -> list[Hit[E]]:
        """Hits in `norm` (the normalized text, same length as the original, so spans carry over)."""
        if self._re is None:
            return []
        hits: list[Hit[E]] = []
        for m in self._re.finditer(norm):
            if m.end() == m.start():
                continue
            prefix = self._prefix(norm, m.start())
            has_neg = bool(self._neg and self._neg.search(prefix))
            factor = 1.0
            if self._int and self._int.search(prefix):
                factor *= self.manifest.intensifiers.factor  # type: ignore[union-attr]
            if self._dim and self._dim.search(prefix):
                factor *= self.manifest.diminishers.factor  # type: ignore[union-attr]
            for entry in self._entries[m.lastgroup or ""]:
                hits.append(Hit(entry, m.start(), m.end(), has_neg and entry.negatable, factor))
        return hits
