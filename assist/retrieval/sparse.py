"""BM25 over rows of the search index, updated in place as phrases change."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np


class BM25:
    """Okapi BM25 with per-term posting arrays rebuilt lazily after edits.

    Documents are numbered `row * stride + place`: a row (the searcher's phrase row) has up to `stride`
    documents (its texts, each of its examples), and a row scores by its best document, so scores land in one
    numpy array per query, indexed by row.
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75, stride: int = 1) -> None:
        self.k1, self.b = k1, b
        self.stride = stride
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

    def set_row(self, row: int, documents: list[list[str]]) -> None:
        """Index (or re-index) a row's documents (each a list of terms; at most `stride`), dropping the
        ones it had before."""
        if len(documents) > self.stride:
            raise ValueError(f"{len(documents)} documents for one row; the limit is {self.stride}")
        self.remove_row(row)
        for place, terms in enumerate(documents):
            if terms:
                self.set(row * self.stride + place, terms)

    def remove_row(self, row: int) -> None:
        for doc in range(row * self.stride, (row + 1) * self.stride):
            self.remove(doc)

    def set(self, row: int, terms: list[str]) -> None:
        """Index (or re-index) one document's terms (`row` is the document's number)."""
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
        """BM25 score of every row, the best of its documents (0 where no term matches), as an array of
        length `size`.

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
        docs: list[np.ndarray] = []
        parts: list[np.ndarray] = []
        for term in dict.fromkeys(terms):
            arrays = self._array(term)
            if arrays is None:
                continue
            rows, tfs = arrays
            idf = math.log(1.0 + (n - len(rows) + 0.5) / (len(rows) + 0.5))
            norm = self.k1 * (1.0 - self.b + self.b * self._doc_len[rows] / avgdl)
            docs.append(rows)
            parts.append(idf * tfs * (self.k1 + 1.0) / (tfs + norm))
        if not docs:
            return out
        if self.stride == 1 and len(docs) == 1:
            out[docs[0]] = parts[0]
            return out
        matched, where = np.unique(np.concatenate(docs), return_inverse=True)
        sums = np.bincount(where, weights=np.concatenate(parts)).astype(np.float32)
        np.maximum.at(out, matched // self.stride, sums)
        return out
