"""End-to-end latency over websockets: customer message sent -> `suggestions` event received.

    python bench/bench_live.py [--conversations 50] [--interval 2.0] [--seconds 60]

Starts `assist serve` as its own process on a free port with a fresh data dir (the shipped bank, the
default model), then opens one websocket per conversation. Each connection subscribes to its
conversation and sends a customer message (texts from eval/retrieval.yml, all three languages) every
`interval` seconds, starting at a random phase. Reported: latency percentiles, messages per second, and
the server's resident memory and CPU time. The load generator runs on the same two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_stats(pid: int) -> tuple[float, float]:
    """(RSS in MiB, CPU seconds) of a process, from /proc."""
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return rss, (int(fields[11]) + int(fields[12])) / ticks


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def conversation(url: str, cid: str, texts: list[str], interval: float, until: float,
                       latencies: list[float], rng: random.Random) -> None:
    async with connect(url, max_size=None) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "subscribe", "conversation_id": cid}))
        sent: dict[str, float] = {}

        async def reader() -> None:
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "suggestions" and frame["message_id"] in sent:
                    latencies.append((time.perf_counter() - sent.pop(frame["message_id"])) * 1000)

        task = asyncio.create_task(reader())
        await asyncio.sleep(rng.uniform(0, interval))
        n = 0
        while time.perf_counter() < until:
            n += 1
            mid = f"{cid}-{n}"
            sent[mid] = time.perf_counter()
            await ws.send(json.dumps({"type": "message", "conversation_id": cid, "role": "customer",
                                      "text": rng.choice(texts), "message_id": mid}, ensure_ascii=False))
            await asyncio.sleep(interval)
        await asyncio.sleep(2)  # let the last answers arrive
        task.cancel()


async def load(url: str, conversations: int, interval: float, seconds: float) -> list[float]:
    texts = [r["text"] for r in yaml.safe_load((ROOT / "eval" / "retrieval.yml").read_text(encoding="utf-8"))]
    rng = random.Random(5)
    latencies: list[float] = []
    until = time.perf_counter() + seconds
    await asyncio.gather(*(conversation(url, f"bench-{i}", texts, interval, until, latencies,
                                        random.Random(rng.random())) for i in range(conversations)))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between one conversation's messages")
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "ASSIST_DATA_DIR": data, "ASSIST_PORT": str(port), "ASSIST_LOG_LEVEL": "WARNING"}
        server = subprocess.Popen([sys.executable, "-m", "assist", "serve"], env=env, cwd=ROOT)
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start")
                time.sleep(0.5)
            rss0, cpu0 = proc_stats(server.pid)
            started = time.perf_counter()
            latencies = asyncio.run(load(f"ws://127.0.0.1:{port}/ws", args.conversations, args.interval,
                                         args.seconds))
            elapsed = time.perf_counter() - started
            rss1, cpu1 = proc_stats(server.pid)
        finally:
            server.terminate()
            server.wait(30)
    sent = args.conversations * args.seconds / args.interval
    print(f"conversations {args.conversations}, one message each {args.interval:g} s, {args.seconds:g} s "
          f"(about {sent:.0f} messages offered)")
    print(f"answered {len(latencies)}: p50 {statistics.median(latencies):.1f} ms, "
          f"p95 {percentile(latencies, 95):.1f} ms, p99 {percentile(latencies, 99):.1f} ms, "
          f"max {max(latencies):.1f} ms")
    print(f"throughput {len(latencies) / elapsed:.1f} messages/s; server RSS {rss0:.0f} -> {rss1:.0f} MiB; "
          f"server CPU {cpu1 - cpu0:.1f} s over {elapsed:.0f} s ({(cpu1 - cpu0) / elapsed:.0%} of one core)")


if __name__ == "__main__":
    main()
