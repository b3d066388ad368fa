"""Dense index: FAISS inner product over normalized vectors, with ids so entries can be replaced in place."""

from __future__ import annotations

import logging
import math
from typing import Any

import faiss
import numpy as np

logger = logging.getLogger(__name__)

# One query at a time is faster single-threaded on a 2-core machine. OpenMP keeps the setting per thread: this
# covers the importing thread, `search` sets it on the worker thread that searches (there, faiss's default of
# one thread per core made a search of 3,300 vectors 0.96 ms instead of 0.13, spinning on the other core).
faiss.omp_set_num_threads(1)


class DenseIndex:
    """Exact `IndexIDMap2(IndexFlatIP)` while small; past `ivf_threshold` vectors it turns itself into an
    `IndexIVFFlat` (inner product, ids kept, `nprobe` lists searched), as txtai switches from Flat to IVF
    for large collections. Inner product equals cosine on normalized vectors."""

    def __init__(self, dim: int, ivf_threshold: int = 20_000, nprobe: int = 24) -> None:
        self.dim = dim
        self.ivf_threshold = ivf_threshold
        self.nprobe = nprobe
        # faiss's stubs know few of the SWIG methods used here (id_map, DirectMap, remove_ids with an array).
        self._index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self.kind = "flat"

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if not len(ids):
            return
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))
        if self.kind == "flat" and len(self) >= self.ivf_threshold:
            self._to_ivf()

    def _to_ivf(self) -> None:
        flat = self._index
        n = len(self)
        ids = faiss.vector_to_array(flat.id_map).astype(np.int64)
        vectors = flat.index.reconstruct_n(0, n)
        nlist = max(1, min(int(2 * math.sqrt(n)), n // 8))
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = vectors[np.random.default_rng(0).permutation(n)[: nlist * 40]]
        ivf.train(sample)
        ivf.add_with_ids(vectors, ids)
        ivf.nprobe = self.nprobe
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]  # lets remove_ids find ids
        self._index, self.kind = ivf, "ivf"
        logger.info("dense index: %d vectors, switched to IVF with %d lists (nprobe %d)", n, nlist, self.nprobe)

    def remove(self, ids: np.ndarray) -> None:
        if len(ids) and len(self):
            self._index.remove_ids(ids.astype(np.int64))

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest entries: (ids, cosine similarities), best first; fewer if the index is small."""
        k = min(k, len(self))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        faiss.omp_set_num_threads(1)
        sims, ids = self._index.search(np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32), k)
        keep = ids[0] >= 0
        return ids[0][keep], sims[0][keep]
