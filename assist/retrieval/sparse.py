"""BM25 over rows of the search index, updated in place as phrases change."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np


class BM25:
    """Okapi BM25 with per-term posting arrays rebuilt lazily after edits.

    Rows are the searcher's dense row numbers, so scores land in one numpy array per query.
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self._postings: dict[str, dict[int, int]] = {}
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._doc_terms: dict[int, Counter[str]] = {}
        self._doc_len = np.zeros(0, dtype=np.float32)
        self._total = 0

    def __len__(self) -> int:
        return len(self._doc_terms)

    def _grow(self, row: int) -> None:
        if row >= len(self._doc_len):
            grown = np.zeros(max(row + 1, 2 * len(self._doc_len), 64), dtype=np.float32)
            grown[: len(self._doc_len)] = self._doc_len
            self._doc_len = grown

    def set(self, row: int, terms: list[str]) -> None:
        """Index (or re-index) a row's terms."""
        self.remove(row)
        counts = Counter(terms)
        self._grow(row)
        self._doc_terms[row] = counts
        self._doc_len[row] = sum(counts.values())
        self._total += sum(counts.values())
        for term, tf in counts.items():
            self._postings.setdefault(term, {})[row] = tf
            self._arrays.pop(term, None)

    def remove(self, row: int) -> None:
        counts = self._doc_terms.pop(row, None)
        if counts is None:
            return
        self._total -= sum(counts.values())
        self._doc_len[row] = 0
        for term in counts:
            posting = self._postings[term]
            posting.pop(row, None)
            if not posting:
                del self._postings[term]
            self._arrays.pop(term, None)

    def _array(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        cached = self._arrays.get(term)
        if cached is None:
            posting = self._postings.get(term)
            if not posting:
                return None
            rows = np.fromiter(posting.keys(), dtype=np.int64, count=len(posting))
            tfs = np.fromiter(posting.values(), dtype=np.float32, count=len(posting))
            cached = self._arrays[term] = (rows, tfs)
        return cached

    def scores(self, terms: list[str], size: int) -> np.ndarray:
        """BM25 score of every row (0 where no term matches), as an array of length `size`.

        Args:
            terms: query tokens; repeats count once.
            size: length of the returned array (the searcher's row count).
        Returns:
            float32 scores indexed by row.
        """
        out = np.zeros(size, dtype=np.float32)
        n = len(self._doc_terms)
        if not n:
            return out
        avgdl = self._total / n
        for term in dict.fromkeys(terms):
            arrays = self._array(term)
            if arrays is None:
                continue
            rows, tfs = arrays
            idf = math.log(1.0 + (n - len(rows) + 0.5) / (len(rows) + 0.5))
            norm = self.k1 * (1.0 - self.b + self.b * self._doc_len[rows] / avgdl)
            out[rows] += idf * tfs * (self.k1 + 1.0) / (tfs + norm)
        return out
