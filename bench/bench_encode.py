"""Query encoding with the default model: eager versus traced, one text at a time versus batches (what
micro-batching buys), alone and beside a busy Python thread (what the service's event loop and searcher are).

    python bench/bench_encode.py [--texts 256]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from assist.config import RetrievalSettings
from assist.retrieval.embedder import Embedder

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def busy_thread() -> Iterator[None]:
    """A thread that runs Python without pause, as the service's other threads do under load."""
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            sum(range(1000))

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def singles(embedder: Embedder, texts: list[str]) -> list[float]:
    out = []
    for text in texts:
        t0 = time.perf_counter()
        embedder.encode([text])
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=256)
    args = parser.parse_args()
    sys.setswitchinterval(0.001)  # as `assist serve` sets it (ASSIST_SWITCH_INTERVAL)
    rows = yaml.safe_load((ROOT / "eval" / "retrieval.yml").read_text(encoding="utf-8"))
    texts = [r["text"] for r in rows if r["lang"] == "en"]
    texts = (texts * (args.texts // len(texts) + 1))[: args.texts]
    for trace in (False, True):
        started = time.perf_counter()
        embedder = Embedder(RetrievalSettings().model_name, trace=trace).load()
        print(f"== {'traced' if embedder.traced else 'eager'}: model load {time.perf_counter() - started:.1f} s")
        embedder.encode(texts[:8])
        alone = singles(embedder, texts)
        print(f"one at a time: p50 {statistics.median(alone):.1f} ms, {1000 / statistics.mean(alone):.0f} texts/s")
        with busy_thread():
            beside = singles(embedder, texts[:64])
        print(f"one at a time beside a busy thread: p50 {statistics.median(beside):.1f} ms, "
              f"max {max(beside):.1f} ms")
        for size in (4, 16, 32):
            t0 = time.perf_counter()
            for start in range(0, len(texts), size):
                embedder.encode(texts[start : start + size], batch_size=size)
            elapsed = time.perf_counter() - t0
            per_batch = elapsed / (len(texts) / size) * 1000
            print(f"batches of {size:>2}: {len(texts) / elapsed:.0f} texts/s, {per_batch:.1f} ms a batch")


if __name__ == "__main__":
    main()
