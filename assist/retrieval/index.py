"""Dense index: FAISS inner product over normalized vectors, with ids so entries can be replaced in place."""

from __future__ import annotations

import faiss
import numpy as np

faiss.omp_set_num_threads(1)  # one query at a time is faster single-threaded on a 2-core machine


class DenseIndex:
    """`IndexIDMap2(IndexFlatIP)`: inner product equals cosine on normalized vectors. Flat is exact and
    fast enough for the bank sizes we serve (see docs/benchmarks.md)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if len(ids) and len(self):
            self._index.remove_ids(ids.astype(np.int64))

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest entries: (ids, cosine similarities), best first; fewer if the index is small."""
        k = min(k, len(self))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        sims, ids = self._index.search(np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32), k)
        keep = ids[0] >= 0
        return ids[0][keep], sims[0][keep]
