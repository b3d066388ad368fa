"""Resident memory of `assist serve` with a large phrase bank: after start-up, then after live load.

    python bench/bench_memory.py [--phrases 10000] [--encode] [--seconds 20] [--conversations 32]

Fills a fresh data dir's SQLite store with the shipped bank plus synthetic approved phrases (generated as
bench/bench_search.py does) up to `phrases` in all, then starts `assist serve` on it and reads its RSS from
/proc: once the index is built, then after `seconds` of closed-loop websocket load (bench_live.py
--saturate). By default the store's vector cache is filled beforehand with random unit vectors, as a restart
finds it (the index holds the same number of vectors, so the same memory); with `--encode` the server
encodes every English text itself on first start, which takes minutes here.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from bench_live import Texts, proc_stats, run_loop, saturate, start_server
from bench_search import synthetic

from assist.bank.schema import PhraseIn
from assist.bank.store import PhraseStore
from assist.bank.vectors import VectorCache
from assist.config import Settings
from assist.retrieval.embedder import cache_name, text_hash
from assist.services import settings_embedder, settings_lang_encoders

ROOT = Path(__file__).resolve().parents[1]
MODEL_DIM = 384  # multilingual-e5-small (the default) and the bundled all-MiniLM-L6-v2 alike
SLOT = re.compile(r"\{[a-z_][a-z0-9_]*\}")


def fill_store(data: Path, phrases: int, cache_vectors: bool) -> int:
    """The shipped bank plus synthetic approved phrases, `phrases` approved in all; returns that count."""
    store = PhraseStore.connect(f"sqlite:///{data / 'assist.db'}")
    try:
        store.seed(ROOT / "assist" / "phrasebank")
        have = len(store.records(statuses=["approved"]))
        # Clauses recombined across languages do not share their {slots}: the bank refuses that, so drop them.
        entries = [
            PhraseIn(
                key=f"synthetic.{p['id']}",
                text={lang: SLOT.sub("", t) for lang, t in p["text"].items()},
                situations=p["situations"],
                emotions=p["emotions"],
                customer_types=p["customer_types"],
                technique=p["technique"],
                teams=p["teams"],
            )
            for p in synthetic(max(0, phrases - have))
        ]
        store.import_entries(entries, "bench")
        records = store.records(statuses=["approved"])
        if cache_vectors:
            settings = Settings().retrieval  # the environment's (ASSIST_RETRIEVAL__LANG_MODELS too)
            rng = np.random.default_rng(7)
            routed = settings_lang_encoders(settings, load=False)
            # Under the key each configured encoder reads (e5's passages have their own), as a restart finds
            # them: the default model's for every language, a routed model's for its languages.
            for encoder, langs in [
                (settings_embedder(settings, load=False), settings.model_langs),
                *((enc, [lang]) for lang, enc in routed.items()),
            ]:
                texts = {r["text"][lang] for r in records for lang in langs if lang in r["text"]}
                vectors = rng.standard_normal((len(texts), MODEL_DIM)).astype(np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                by_hash = {text_hash(t): v.tobytes() for t, v in zip(sorted(texts), vectors, strict=True)}
                VectorCache(store.db).save_vectors(cache_name(encoder), MODEL_DIM, by_hash)
        return len(records)
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phrases", type=int, default=10_000, help="approved phrases in the bank, shipped included")
    parser.add_argument(
        "--encode",
        action="store_true",
        help="let the server encode every phrase on first start instead of finding random vectors in the cache",
    )
    parser.add_argument("--seconds", type=float, default=20, help="seconds of closed-loop load after start-up")
    parser.add_argument("--conversations", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        approved = fill_store(data, args.phrases, not args.encode)
        started = time.perf_counter()
        server, port = start_server({**os.environ, "ASSIST_LOG_LEVEL": "WARNING", "ASSIST_DATA_DIR": str(data)})
        try:
            ready = time.perf_counter() - started
            rss_ready, _ = proc_stats(server.pid)
            curve: list[float] = []
            done = threading.Event()

            def sample() -> None:  # RSS every tenth of the load, to see whether it levels off
                while not done.wait(args.seconds / 10):
                    curve.append(proc_stats(server.pid)[0])

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            latencies = run_loop(
                saturate([f"ws://127.0.0.1:{port}/ws"], args.conversations, 1, args.seconds, 5.0, Texts(), lambda: None)
            )
            done.set()
            sampler.join()
            rss_loaded, _ = proc_stats(server.pid)
            peak = max_rss(server.pid)
            if server.poll() is not None:
                print(f"the server exited during the run (code {server.returncode}): the figures are not valid")
        finally:
            server.terminate()
            server.wait(30)
    print(
        f"{approved} approved phrases ({'encoded on first start' if args.encode else 'vectors from the cache'}); "
        f"server ready in {ready:.1f} s"
    )
    print(
        f"RSS after start-up {rss_ready:.0f} MiB; after {args.seconds:g} s of load ({len(latencies)} messages "
        f"answered, {len(latencies) / args.seconds:.0f}/s) {rss_loaded:.0f} MiB; peak {peak:.0f} MiB"
    )
    print("RSS during the load, MiB: " + " ".join(f"{rss:.0f}" for rss in curve))


def max_rss(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    main()
