"""Query encoding with the default model: one text at a time versus batches (what micro-batching buys).

    python bench/bench_encode.py [--texts 256]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import yaml

from assist.config import RetrievalSettings
from assist.retrieval.embedder import Embedder

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=256)
    args = parser.parse_args()
    rows = yaml.safe_load((ROOT / "eval" / "retrieval.yml").read_text(encoding="utf-8"))
    texts = [r["text"] for r in rows if r["lang"] == "en"]
    texts = (texts * (args.texts // len(texts) + 1))[: args.texts]
    started = time.perf_counter()
    embedder = Embedder(RetrievalSettings().model_name).load()
    print(f"model load {time.perf_counter() - started:.1f} s")
    embedder.encode(texts[:8])
    singles = []
    for text in texts:
        t0 = time.perf_counter()
        embedder.encode([text])
        singles.append((time.perf_counter() - t0) * 1000)
    print(f"one at a time: p50 {statistics.median(singles):.1f} ms, {1000 / statistics.mean(singles):.0f} texts/s")
    for size in (4, 16, 32):
        t0 = time.perf_counter()
        for start in range(0, len(texts), size):
            embedder.encode(texts[start : start + size], batch_size=size)
        elapsed = time.perf_counter() - t0
        per_batch = elapsed / (len(texts) / size) * 1000
        print(f"batches of {size:>2}: {len(texts) / elapsed:.0f} texts/s, {per_batch:.1f} ms a batch")


if __name__ == "__main__":
    main()
