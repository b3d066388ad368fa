"""One compiled regex per entry list: finds entry hits with spans, negation and intensifier factors."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

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


def _trie_regex(terms: list[str]) -> str:
    """One regex for many literal terms, shared prefixes merged, longer continuations tried first."""
    trie: dict[str, dict[str, Any]] = {}
    for term in terms:
        node = trie
        for ch in term:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        end = "" in node
        alts = [(r"\s+" if ch == " " else re.escape(ch)) + build(child) for ch, child in node.items() if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if end:
            return body + "?" if len(alts) == 1 and len(body) == 1 else "(?:" + body + ")?"
        return body

    return build(trie)


def _key(text: str) -> str:
    return " ".join(text.lower().split())


class Matcher(Generic[E]):
    """All entries of one file of one language folder, case-insensitive, leftmost-longest.

    Literal terms go into one trie-shaped regex and are looked up by their text afterwards (fast on long
    text); wildcard terms and patterns go into a second regex with one named group each.
    """

    def __init__(self, entries: Sequence[E], manifest: Manifest) -> None:
        self.manifest = manifest
        self._by_term: dict[str, list[E]] = {}
        groups: list[tuple[str, E]] = []
        for entry in entries:
            for pattern in entry.patterns:
                groups.append((pattern, entry))
            for term in entry.terms:
                if term.endswith("*") and len(term) > 1:
                    groups.append((_term_regex(term, manifest.word_boundaries), entry))
                else:
                    bucket = self._by_term.setdefault(_key(term), [])
                    if entry not in bucket:
                        bucket.append(entry)
        self._terms: re.Pattern[str] | None = None
        if self._by_term:
            trie = _trie_regex(sorted(self._by_term))
            if manifest.word_boundaries:
                # A term edged by a letter or digit must not touch another; one edged by punctuation may.
                trie = r"(?:(?<![A-Za-z0-9])|(?=[^A-Za-z0-9]))(?:" + trie + r")(?:(?![A-Za-z0-9])|(?<=[^A-Za-z0-9]))"
            self._terms = re.compile(trie, re.IGNORECASE)
        self._entries: dict[str, list[E]] = {}
        by_regex: dict[str, str] = {}
        parts: list[str] = []
        for regex, entry in groups:
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
        breaks = list(self._brk.finditer(prefix))  # the words after the last break belong to this term
        return prefix[breaks[-1].end() :] if breaks else prefix

    def _spans(self, norm: str) -> list[tuple[int, int, list[E]]]:
        found: list[tuple[int, int, list[E]]] = []
        if self._terms is not None:
            for m in self._terms.finditer(norm):
                entries = self._by_term.get(_key(m.group()))
                if entries and m.end() > m.start():
                    found.append((m.start(), m.end(), entries))
        if self._re is not None:
            for m in self._re.finditer(norm):
                if m.end() > m.start():
                    found.append((m.start(), m.end(), self._entries[m.lastgroup or ""]))
        if self._terms is None or self._re is None:
            return found
        # Leftmost-longest across both regexes: drop a span that overlaps one already kept.
        found.sort(key=lambda f: (f[0], -f[1]))
        kept: list[tuple[int, int, list[E]]] = []
        for span in found:
            if not kept or span[0] >= kept[-1][1]:
                kept.append(span)
        return kept

    def find(self, norm: str) -> list[Hit[E]]:
        """Hits in `norm` (the normalized text, same length as the original, so spans carry over)."""
        hits: list[Hit[E]] = []
        for start, end, entries in self._spans(norm):
            prefix = self._prefix(norm, start)
            has_neg = bool(self._neg and self._neg.search(prefix))
            factor = 1.0
            if self._int and self._int.search(prefix):
                factor *= self.manifest.intensifiers.factor  # type: ignore[union-attr]
            if self._dim and self._dim.search(prefix):
                factor *= self.manifest.diminishers.factor  # type: ignore[union-attr]
            for entry in entries:
                hits.append(Hit(entry, start, end, has_neg and entry.negatable, factor))
        return hits
