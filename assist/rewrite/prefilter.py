"""Cheap necessary conditions for a rule's regex: skip a rule on a draft where it cannot match.

Most rules match nothing in most drafts, yet Python's `re` tries many of them at every position of the
draft (a pattern that opens with optional groups has no literal prefix to jump to). So each pattern gets up to
`MAX_CONDITIONS` **conditions**, each a set of literal strings of which every match contains at least one
(`{做不到, 办不到, 弄不了}`, `{calm down, relax}`). Per draft, one scan finds which of all the rules' strings
occur in it; a rule with an unmet condition is skipped, the others run as before. Skipping changes nothing
but the time: the rule could not have matched.

The conditions are worked out from the parsed pattern (`re._parser`, the standard library's own parser):
literal runs of a sequence, the union of one condition per alternative of a branch, groups, repeats of at
least one, small character classes. Anything else (lookarounds, anchors, wide or negated classes, optional
parts) gives no condition, so a pattern that can match without a literal has none and always runs. If the
parser is missing or refuses a pattern, the pattern has no condition.

Case-insensitive languages (`flags: [IGNORECASE]`) compare folded text: ASCII letters lower-cased, and every
other character that `re` itself matches to an ASCII letter under IGNORECASE (K, ſ, İ, ı) mapped to it.
Strings with other cased characters are not used as conditions, so the test stays exact.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_sre_parse: Any = getattr(re, "_parser", None)  # the stdlib's regex parser (private, as sre_parse was)

MAX_CLASS = 32  # a character class wider than this gives no condition (\u4e00-\u9fff)
MAX_CONDITIONS = 2  # kept per pattern (the cheapest first): more only costs checks

Condition = frozenset[str]  # a match contains at least one of these strings
Needs = tuple[tuple[Condition, ...], ...]  # any one alternative with all its conditions met; ((),): always
ALWAYS: Needs = ((),)
MAX_ALTERNATIVES = 12  # a top-level alternation with more branches is taken as one


def conditions(pattern: str, flags: int = 0) -> Needs:
    """What every match of `pattern` (compiled with `flags`) needs: for a pattern that is an alternation at
    its top (`a|b|c`, a family's joined patterns), one conjunction of conditions per branch; ALWAYS when
    nothing can be told."""
    if _sre_parse is None:
        return ALWAYS
    try:
        parsed = _sre_parse.parse(pattern, flags)
        items = list(parsed)
        if _local_flags(items):  # (?i:…) / (?-i:…) inside: the text view would not fit every part
            return ALWAYS
        alternatives = _alternatives(items)
        if len(alternatives) > MAX_ALTERNATIVES:
            alternatives = [items]
        found = [_sequence(alt) for alt in alternatives]
    except (re.error, TypeError, ValueError, AttributeError, IndexError):  # pragma: no cover - defensive
        return ALWAYS
    fold = bool((flags | parsed.state.flags) & re.IGNORECASE)
    out: list[tuple[Condition, ...]] = []
    for conds in found:
        best = _best(conds, fold)
        if not best:
            return ALWAYS  # a branch that can match without a known literal
        if best not in out:
            out.append(best)
    return tuple(out)


def _best(found: list[Condition], fold: bool) -> tuple[Condition, ...]:
    out: set[Condition] = set()
    for cond in found:
        if fold:
            if not all(_foldable(s) for s in cond):
                continue
            cond = frozenset(s.lower() for s in cond)
        if cond and all(cond):
            out.add(cond)
    return tuple(sorted(out, key=_cost)[:MAX_CONDITIONS])


def _alternatives(items: list[tuple[Any, Any]]) -> list[list[tuple[Any, Any]]]:
    """The branches of a pattern that is an alternation at its top (through plain groups), else itself."""
    if len(items) == 1:
        op, av = items[0]
        name = str(op)
        if name == "BRANCH":
            return [alt for branch in av[1] for alt in _alternatives(list(branch))]
        if name == "SUBPATTERN" and not av[1] and not av[2]:
            return _alternatives(list(av[3]))
    return [items]


class Prefilter:
    """The conditions of one language's rules and the per-draft scan that checks them all at once."""

    def __init__(self, flags: int) -> None:
        self.fold = bool(flags & re.IGNORECASE)
        self._flags = flags
        self._singles: set[str] = set()
        self._multi: dict[str, set[str]] = {}  # first character -> strings of two or more characters
        # A draft is scanned by the first pass, the settling and the flags: the same text three times.
        self.present = lru_cache(maxsize=64)(self._present)

    def add(self, pattern: str) -> Needs:
        """What one pattern needs, its strings remembered for the scan (add every pattern before the first scan)."""
        needs = conditions(pattern, self._flags)
        for alt in needs:
            for cond in alt:
                for s in cond:
                    if len(s) == 1:
                        self._singles.add(s)
                    else:
                        self._multi.setdefault(s[0], set()).add(s)
        return needs

    def _present(self, text: str) -> frozenset[str]:
        """The remembered strings that occur in `text` (`present`, the same with the last texts kept)."""
        view = fold(text) if self.fold else text
        chars = set(view)
        found = [s for ch in chars.intersection(self._multi) for s in self._multi[ch] if s in view]
        return frozenset(chars.intersection(self._singles).union(found))


class Index(Generic[T]):
    """Items (rules) with what they need, indexed by the strings of each alternative's first condition.

    `allowed(present)` gives, in their original order, the items `allowed(needs, present)` accepts, without
    visiting the items none of whose strings occur.
    """

    def __init__(self, items: Sequence[T], needs: Callable[[T], Needs]) -> None:
        self._items = list(items)
        self._needs = [needs(it) for it in self._items]
        self._always = [i for i, n in enumerate(self._needs) if any(not alt for alt in n)]
        self._by_string: dict[str, set[int]] = {}
        for i, n in enumerate(self._needs):
            for alt in n:
                for s in alt[0] if alt else ():
                    self._by_string.setdefault(s, set()).add(i)

    def allowed(self, present: frozenset[str]) -> list[T]:
        found = set(self._always)
        for s in present:
            hit = self._by_string.get(s)
            if hit:
                found.update(hit)
        return [self._items[i] for i in sorted(found) if allowed(self._needs[i], present)]


def allowed(needs: Needs, present: frozenset[str]) -> bool:
    """Whether some alternative has every condition met by a present string (ALWAYS: always)."""
    for alt in needs:
        for cond in alt:
            if present.isdisjoint(cond):
                break
        else:
            return True
    return False


def fold(text: str) -> str:
    """The text as case-insensitive conditions compare it (see the module's docstring)."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD)


class _FoldTable(dict[int, str]):
    """str.translate's table, filled as characters are met (bounded: a draft may hold any character)."""

    def __missing__(self, cp: int) -> str:
        if len(self) >= _FOLD_KEEP:
            self.clear()
        out = _fold_char(chr(cp))
        self[cp] = out
        return out


_FOLD_KEEP = 65536


@lru_cache(maxsize=_FOLD_KEEP)
def _fold_char(ch: str) -> str:
    if ch.isascii():
        return ch.lower()
    for letter in string.ascii_lowercase:  # what `re` under IGNORECASE matches to an ASCII letter
        if re.fullmatch(letter, ch, re.IGNORECASE):
            return letter
    return ch


_FOLD = _FoldTable()


def _foldable(s: str) -> bool:
    """Characters a folded view compares exactly: ASCII, or non-ASCII without case."""
    return all(ch.isascii() or (ch.lower() == ch and ch.upper() == ch and _fold_char(ch) == ch) for ch in s)


def _cost(c: frozenset[str]) -> tuple[float, tuple[str, ...]]:
    # Fewer and longer strings are rarer in a draft; the sorted strings make the order deterministic.
    return (sum(1.0 / len(s) ** 2 for s in c), tuple(sorted(c)))


def _sequence(items: list[tuple[Any, Any]]) -> list[Condition]:
    """Conditions every match of the sequence meets (all of them at once)."""
    out: list[Condition] = []
    run: list[str] = []
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            run.append(chr(av))
            continue
        if run:
            out.append(frozenset({"".join(run)}))
            run.clear()
        out.extend(_item(name, av))
    if run:
        out.append(frozenset({"".join(run)}))
    return out


def _item(name: str, av: Any) -> list[Condition]:
    if name == "SUBPATTERN":
        return _sequence(list(av[3]))
    if name == "ATOMIC_GROUP":
        return _sequence(list(av))
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, _high, sub = av
        return _sequence(list(sub)) if low >= 1 else []
    if name == "BRANCH":
        union: set[str] = set()
        for branch in av[1]:
            conds = _sequence(list(branch))
            if not conds:
                return []  # an alternative with no condition: the branch as a whole has none
            cheapest: Condition = min(conds, key=_cost)
            union.update(cheapest)
        return [frozenset(union)]
    if name == "IN":
        chars = _class_chars(av)
        return [chars] if chars else []
    # ANY, NOT_LITERAL, CATEGORY, AT, ASSERT, ASSERT_NOT, GROUPREF…: nothing a match must contain
    return []


def _class_chars(items: list[tuple[Any, Any]]) -> Condition | None:
    chars: set[str] = set()
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            chars.add(chr(av))
        elif name == "RANGE" and av[1] - av[0] < MAX_CLASS:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        else:  # NEGATE, CATEGORY, a wide RANGE
            return None
        if len(chars) > MAX_CLASS:
            return None
    return frozenset(chars)


def _local_flags(items: list[tuple[Any, Any]]) -> bool:
    """Whether a group of the pattern changes flags ((?i:…), (?-i:…))."""
    for op, av in items:
        name = str(op)
        if name == "SUBPATTERN":
            if av[1] or av[2] or _local_flags(list(av[3])):
                return True
        elif name == "ATOMIC_GROUP":
            if _local_flags(list(av)):
                return True
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            if _local_flags(list(av[2])):
                return True
        elif name == "BRANCH":
            if any(_local_flags(list(b)) for b in av[1]):
                return True
        elif name in ("ASSERT", "ASSERT_NOT"):
            if _local_flags(list(av[1])):
                return True
    return False
