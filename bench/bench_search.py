"""Search latency at 1k / 10k / 100k synthetic phrases, query encoding excluded.

    python bench/bench_search.py [--sizes 1000 10000 100000] [--queries 2000]

Synthetic phrases recombine clauses of the shipped bank with random labels and teams. Their vectors are
random unit vectors (the flat index costs the same whatever the vectors hold), so the benchmark measures
the searcher: FAISS, BM25, fusion, reranking and diversity, not the model.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from pathlib import Path

import numpy as np

from assist.bank.content import load_shipped
from assist.config import RetrievalSettings
from assist.lang import to_traditional
from assist.retrieval.searcher import HybridSearcher, Query
from assist.vocab import EMOTIONS, PROFILE_LABELS, SITUATIONS, TECHNIQUES

ROOT = Path(__file__).resolve().parents[1]
QUERIES = [
    ("我的快递怎么还没到，都一个星期了！！", "zh-Hans", {"delay": 0.9, "delivery": 0.8}, "anger"),
    ("你們這服務態度太差了，我要給差評", "zh-Hant", {"complaint": 0.9}, "anger"),
    ("能不能便宜点，别家更便宜", "zh-Hans", {"price": 0.9}, "neutral"),
    ("you charged me twice, I want a refund now", "en", {"billing": 0.9, "refund_return": 0.9}, "anger"),
    ("how do I reset my password?", "en", {"account": 0.9, "how_to": 0.8}, "confusion"),
    ("is this genuine? looks fake", "en", {"authenticity": 0.9}, "anxiety"),
]


class RandomUnitEncoder:
    """Random unit vectors: the flat index's cost does not depend on what the vectors hold."""

    name, dim = "random-unit", 384

    def __init__(self) -> None:
        self.rng = np.random.default_rng(7)

    def encode(self, texts, batch_size=64, progress=None):  # type: ignore[no-untyped-def]
        v = self.rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def synthetic(n: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    shipped = [e for _, e in load_shipped(ROOT / "assist" / "phrasebank")]
    zh = [c for e in shipped for c in re.split(r"(?<=[，。！？])", e.text["zh-Hans"]) if c]
    en = [c for e in shipped for c in re.split(r"(?<=[,.!?]) ", e.text["en"]) if c]
    teams = ["", "", "", "sales", "support", "vip"]
    out = []
    for i in range(n):
        zh_text = "".join(rng.sample(zh, 2))
        out.append(
            {
                "id": i + 1,
                "key": f"s.{i}",
                "status": "approved",
                "text": {"zh-Hans": zh_text, "zh-Hant": to_traditional(zh_text), "en": " ".join(rng.sample(en, 2))},
                "situations": rng.sample(SITUATIONS, rng.randint(1, 2)),
                "emotions": rng.sample(EMOTIONS, rng.randint(1, 3)),
                "customer_types": rng.sample(PROFILE_LABELS, rng.randint(0, 3)),
                "technique": rng.choice(list(TECHNIQUES)),
                "teams": [t for t in [rng.choice(teams)] if t],
                "placeholders": [],
                "source": None,
            }
        )
    return out


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def run(size: int, queries: int) -> dict[str, float]:
    encoder = RandomUnitEncoder()
    searcher = HybridSearcher(encoder, RetrievalSettings())
    started = time.perf_counter()
    searcher.upsert(synthetic(size))
    build = time.perf_counter() - started
    # A mixed emotion reading, as the analyzer gives one, so the rerank's coverage of readings has work to do.
    prepared = [
        Query(
            text=t,
            lang=lang,
            situations=s,
            emotion=e,
            emotion_scores={e: 0.6, "neutral": 0.25, "anxiety" if e == "frustration" else "frustration": 0.15},
            customer_types={"trust:skeptical": 0.7},
            team="sales",
            k=5,
            vector=encoder.encode([t])[0],
        )
        for t, lang, s, e in QUERIES
    ]
    for q in prepared:  # warm up BM25 posting arrays
        searcher.search(q)
    times = []
    for i in range(queries):
        q = prepared[i % len(prepared)]
        t0 = time.perf_counter()
        searcher.search(q)
        times.append((time.perf_counter() - t0) * 1000)
    return {
        "size": size,
        "build_s": build,
        "p50": statistics.median(times),
        "p95": percentile(times, 95),
        "p99": percentile(times, 99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    print(f"{'phrases':>8} {'build s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for size in args.sizes:
        r = run(size, args.queries)
        print(f"{r['size']:>8} {r['build_s']:>8.1f} {r['p50']:>7.2f} {r['p95']:>7.2f} {r['p99']:>7.2f}", flush=True)


if __name__ == "__main__":
    main()
