"""The searcher's rows: one per indexed phrase, its labels as bitmasks in parallel numpy arrays."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from assist.bank.schema import MAX_EXAMPLES
from assist.vocab import EMOTIONS, PROFILE_LABELS, SITUATIONS, TECHNIQUES

SIT = {s: i for i, s in enumerate(SITUATIONS)}
EMO = {e: i for i, e in enumerate(EMOTIONS)}
TYPE = {t: i for i, t in enumerate(PROFILE_LABELS)}
TECH = {t: i for i, t in enumerate(TECHNIQUES)}
NO_TECHNIQUE = len(TECHNIQUES)  # a row's technique index when the phrase has none

_ARRAYS = ("active", "langs", "sit", "emo", "type", "tech", "scoped")


def mask(labels: Sequence[str], index: dict[str, int]) -> int:
    m = 0
    for label in labels:
        if label in index:
            m |= 1 << index[label]
    return m


class Rows:
    """Phrase id -> row, the phrase dicts, per-row label bitmasks and active flag, and team scoping: a row is
    `scoped` when its phrase names teams, and `team_rows` lists the rows of each team (no limit on teams)."""

    def __init__(self, codes: Sequence[str], cap: int = 64) -> None:
        # Each row has `stride` dense ids: one per registered language code (assist.languages) for the phrase's
        # texts, row * stride + the code's index, then one per example, row * stride + slots + the example's
        # place. Lexical documents are numbered the same way: the phrase's texts at row * stride, its examples
        # after them.
        self.lang = {code: i for i, code in enumerate(codes)}
        self.slots = len(self.lang)
        self.stride = self.slots + MAX_EXAMPLES
        self.ids: dict[int, int] = {}  # phrase id -> row
        self.phrases: list[dict[str, Any] | None] = []
        self.team_rows: dict[str, set[int]] = {}  # team -> rows scoped to it
        self.row_teams: dict[int, tuple[str, ...]] = {}  # row -> its teams
        self.active = np.zeros(cap, dtype=bool)
        self.langs = np.zeros(cap, dtype=np.uint32)
        self.sit = np.zeros(cap, dtype=np.uint32)
        self.emo = np.zeros(cap, dtype=np.uint32)
        self.type = np.zeros(cap, dtype=np.uint32)
        self.tech = np.full(cap, NO_TECHNIQUE, dtype=np.int64)
        self.scoped = np.zeros(cap, dtype=bool)

    def dense_ids(self, row: int) -> np.ndarray:
        """The dense index ids a row may hold (a text per language code, then its examples)."""
        return np.arange(row * self.stride, (row + 1) * self.stride, dtype=np.int64)

    def text_id(self, row: int, lang: str) -> int:
        """The id of a row's text in one language (dense index)."""
        return row * self.stride + self.lang[lang]

    def example_id(self, row: int, place: int) -> int:
        """The id of a row's example number `place` (0-based, all languages together): dense and lexical."""
        return row * self.stride + self.slots + place

    def __len__(self) -> int:
        """Rows ever allocated (inactive ones included)."""
        return len(self.phrases)

    def _grow(self, size: int) -> None:
        cap = len(self.active)
        if size <= cap:
            return
        new = max(size, cap * 2)
        for name in _ARRAYS:
            old = getattr(self, name)
            fill = NO_TECHNIQUE if name == "tech" else 0
            arr = np.full(new, fill, dtype=old.dtype)
            arr[:cap] = old
            setattr(self, name, arr)

    def _set_teams(self, row: int, teams: Sequence[str]) -> None:
        for team in self.row_teams.pop(row, ()):
            rows = self.team_rows.get(team)
            if rows is not None:
                rows.discard(row)
                if not rows:
                    del self.team_rows[team]
        if teams:
            self.row_teams[row] = tuple(teams)
            for team in teams:
                self.team_rows.setdefault(team, set()).add(row)
        self.scoped[row] = bool(teams)

    def row_for(self, phrase_id: int) -> int:
        """The phrase's row, allocated (inactive) when new."""
        row = self.ids.get(phrase_id)
        if row is None:
            row = self.ids[phrase_id] = len(self.phrases)
            self.phrases.append(None)
            self._grow(row + 1)
        return row

    def set(self, row: int, p: dict[str, Any]) -> None:
        """Make a row hold an approved phrase."""
        self.phrases[row] = p
        self.active[row] = True
        self.langs[row] = mask(list(p["text"]), self.lang)
        self.sit[row] = mask(p["situations"], SIT)
        self.emo[row] = mask(p["emotions"], EMO)
        self.type[row] = mask(p["customer_types"], TYPE)
        self.tech[row] = TECH.get(p["technique"] or "", NO_TECHNIQUE)
        self._set_teams(row, p["teams"])

    def clear(self, row: int) -> None:
        self.phrases[row] = None
        self.active[row] = False
        self._set_teams(row, ())

    def eligible(self, lang: str, team: str | None, n: int) -> np.ndarray:
        """Active rows with a text in `lang` that `team` may see (phrases without teams are for everyone)."""
        eligible = self.active[:n] & ((self.langs[:n] >> self.lang.get(lang, 0)) & 1).astype(bool)
        visible = ~self.scoped[:n]
        mine = self.team_rows.get(team or "")
        if mine:
            rows = np.fromiter(mine, dtype=np.int64, count=len(mine))
            visible[rows[rows < n]] = True
        return eligible & visible
