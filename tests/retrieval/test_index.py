"""The FAISS wrapper (assist.retrieval.index) on hand-made unit vectors."""

from __future__ import annotations

import numpy as np

from assist.retrieval.index import DenseIndex


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_flat_index_returns_ids_and_cosines_best_first() -> None:
    index = DenseIndex(3)
    index.add(np.array([10, 20, 30]), _unit(np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0]])))
    ids, sims = index.search(_unit(np.array([[1, 0, 0]]))[0], 5)  # k above the size: all of them
    assert ids.tolist() == [10, 30, 20]
    np.testing.assert_allclose(sims, [1.0, np.sqrt(0.5), 0.0], atol=1e-6)
    assert index.kind == "flat" and len(index) == 3


def test_remove_and_replace_by_id() -> None:
    index = DenseIndex(2)
    index.add(np.array([1, 2]), _unit(np.array([[1, 0], [0, 1]])))
    index.remove(np.array([1, 99]))  # unknown ids are ignored
    assert len(index) == 1
    index.add(np.array([1]), _unit(np.array([[0, 1]])))  # the id comes back with a new vector
    ids, sims = index.search(np.array([0, 1], dtype=np.float32), 2)
    assert sorted(ids.tolist()) == [1, 2] and np.allclose(sims, 1.0)


def test_empty_index_and_empty_calls() -> None:
    index = DenseIndex(4)
    index.add(np.array([], dtype=np.int64), np.zeros((0, 4), dtype=np.float32))
    index.remove(np.array([3]))
    ids, sims = index.search(np.ones(4, dtype=np.float32), 3)
    assert ids.shape == (0,) and sims.shape == (0,)


def test_switches_to_ivf_past_the_threshold_and_keeps_ids() -> None:
    rng = np.random.default_rng(0)
    vectors = _unit(rng.standard_normal((64, 8)))
    index = DenseIndex(8, ivf_threshold=64, nprobe=64)  # every list searched: exact answers
    index.add(np.arange(100, 164), vectors)
    assert index.kind == "ivf" and len(index) == 64
    ids, sims = index.search(vectors[5], 1)
    assert ids.tolist() == [105] and sims[0] > 0.999
    index.remove(np.array([105]))
    assert 105 not in index.search(vectors[5], 5)[0].tolist() and len(index) == 63


def test_a_search_on_a_worker_thread_runs_one_openmp_thread() -> None:
    # OpenMP keeps its thread count per thread; faiss's default there (one per core) spun on the other core.
    import threading

    import faiss

    index = DenseIndex(4)
    index.add(np.array([1, 2]), np.eye(4, dtype=np.float32)[:2])
    seen: list[int] = []

    def search() -> None:
        index.search(np.eye(4, dtype=np.float32)[0], 2)
        seen.append(faiss.omp_get_max_threads())

    worker = threading.Thread(target=search)
    worker.start()
    worker.join()
    assert seen == [1]
