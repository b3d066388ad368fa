"""Cost of the learned feature (assist/bank/feedback.py) at a full team: 5,000 stored events of 384 floats.

    python bench/bench_feedback.py [--rows 5000] [--queries 2000] [--url sqlite:///...]

Measures, on a scratch SQLite store (or --url): one `record` (insert and the per-team bound), loading a
team's events in full (first use after a start), topping up after another instance's write (one new row),
and `neighbours` per customer message (one matrix product over the team's vectors and the vote). Vectors
are random unit vectors near a few centres, so that neighbourhoods exist; the cost does not depend on them.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from assist.bank.feedback import FeedbackMemory
from assist.bank.models import FeedbackEvent
from assist.bank.schema import PhraseIn
from assist.bank.store import PhraseStore
from assist.config import FeedbackSettings

DIM = 384


def vectors(rng: np.random.Generator, n: int, centres: np.ndarray) -> np.ndarray:
    v = centres[rng.integers(0, len(centres), n)] + 0.35 * rng.standard_normal((n, DIM)) / np.sqrt(DIM)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def ms(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100)
    return f"p50 {statistics.median(samples) * 1000:.2f} ms, p99 {q[98] * 1000:.2f} ms (n={len(samples)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((40, DIM)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        store = PhraseStore.connect(args.url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        ids = [
            store.create(PhraseIn.model_validate({"key": f"p{i}", "text": {"en": f"reply {i}"}}), "bench")["id"]
            for i in range(50)
        ]
        settings = FeedbackSettings(max_rows_per_team=args.rows)
        mine = FeedbackMemory(store.db, settings, "bench|query", DIM)
        with store.db.session() as s:  # fill the team directly: the bench is about reading it
            vs = vectors(rng, args.rows, centres)
            s.add_all(
                FeedbackEvent(
                    team="t",
                    phrase_id=ids[i % 50],
                    action="used" if i % 4 else "dismissed",
                    model="bench|query",
                    dim=DIM,
                    vector=vs[i].tobytes(),
                    at=time.time() - i * 60.0,
                )  # fmt: skip
                for i in range(args.rows)
            )
        started = time.perf_counter()
        assert mine.has("t")
        print(f"load {args.rows} events of team t: {(time.perf_counter() - started) * 1000:.1f} ms")
        writes = []
        for i in range(200):
            t0 = time.perf_counter()
            mine.record("t", ids[i % 50], "used", vectors(rng, 1, centres)[0])
            writes.append(time.perf_counter() - t0)
        print(f"record (insert + bound at {args.rows}): {ms(writes)}")
        other = FeedbackMemory(store.db, settings, "bench|query", DIM)
        other.has("t")
        tops = []
        for i in range(50):
            mine.record("t", ids[i % 50], "used", vectors(rng, 1, centres)[0])
            t0 = time.perf_counter()
            other.apply({"team": "t"})  # as the broker notice does, off the search path
            other.top_up({"team": "t"})
            tops.append(time.perf_counter() - t0)
        print(f"top-up after another instance's write (on the notice, not the search): {ms(tops)}")
        queries = vectors(rng, args.queries, centres)
        times, sizes = [], []
        for q in queries:
            t0 = time.perf_counter()
            found = mine.neighbours("t", q)
            times.append(time.perf_counter() - t0)
            sizes.append(len(found))
        print(
            f"neighbours over {args.rows} events: {ms(times)}; phrases voted per message: {statistics.mean(sizes):.1f}"
        )
        store.close()


if __name__ == "__main__":
    main()
