"""End-to-end latency over websockets: customer message sent -> `suggestions` event received.

    python bench/bench_live.py [--conversations 50] [--interval 2.0] [--seconds 60] [--instances 1|2]

Starts `assist serve` as its own process on a free port with a fresh data dir (the shipped bank, the
default model), then opens one websocket per conversation. Each connection subscribes to its
conversation and sends a customer message (texts from eval/retrieval.yml, all three languages) every
`interval` seconds, starting at a random phase. Reported: latency percentiles, messages per second, and
the server's resident memory and CPU time. The load generator runs on the same two cores.

With `--instances 2` two servers share a fresh PostgreSQL database (127.0.0.1:5432) and the Redis on
127.0.0.1:6379; each conversation's messages go to one instance and its agent watches on the other, so
every event crosses Redis.
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


async def conversation(feed_url: str, watch_url: str, cid: str, texts: list[str], interval: float, until: float,
                       latencies: list[float], rng: random.Random) -> None:
    async with connect(watch_url, max_size=None) as ws, connect(feed_url) as feed:
        await ws.recv()
        await feed.recv()
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
            await feed.send(json.dumps({"type": "message", "conversation_id": cid, "role": "customer",
                                        "text": rng.choice(texts), "message_id": mid}, ensure_ascii=False))
            await asyncio.sleep(interval)
        await asyncio.sleep(2)  # let the last answers arrive
        task.cancel()


async def load(urls: list[str], conversations: int, interval: float, seconds: float) -> list[float]:
    texts = [r["text"] for r in yaml.safe_load((ROOT / "eval" / "retrieval.yml").read_text(encoding="utf-8"))]
    rng = random.Random(5)
    latencies: list[float] = []
    until = time.perf_counter() + seconds
    n = len(urls)
    await asyncio.gather(*(conversation(urls[i % n], urls[(i + 1) % n], f"bench-{i}", texts, interval, until,
                                        latencies, random.Random(rng.random())) for i in range(conversations)))
    return latencies


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "assist", "serve"], env={**env, "ASSIST_PORT": str(port)},
                              cwd=ROOT)
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return server, port
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            raise SystemExit("the server did not start")
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between one conversation's messages")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--instances", type=int, choices=(1, 2), default=1)
    args = parser.parse_args()
    servers: list[tuple[subprocess.Popen[bytes], int]] = []
    database = None
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "ASSIST_LOG_LEVEL": "WARNING"}
        if args.instances == 2:
            from sqlalchemy import create_engine, text

            database = f"assist_bench_{os.getpid()}"
            admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {database}"))
            env.update(ASSIST_DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
                       ASSIST_BROKER_URL="redis://127.0.0.1:6379/0", ASSIST_BROKER_PREFIX=f"bench-{os.getpid()}")
        try:
            for i in range(args.instances):
                servers.append(start_server({**env, "ASSIST_DATA_DIR": f"{data}/{i}"}))
            before = [proc_stats(p.pid) for p, _ in servers]
            started = time.perf_counter()
            latencies = asyncio.run(load([f"ws://127.0.0.1:{port}/ws" for _, port in servers], args.conversations,
                                         args.interval, args.seconds))
            elapsed = time.perf_counter() - started
            after = [proc_stats(p.pid) for p, _ in servers]
        finally:
            for p, _ in servers:
                p.terminate()
                p.wait(30)
            if database:
                with admin.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
    sent = args.conversations * args.seconds / args.interval
    print(f"instances {args.instances}, conversations {args.conversations}, one message each {args.interval:g} s, "
          f"{args.seconds:g} s (about {sent:.0f} messages offered)")
    print(f"answered {len(latencies)}: p50 {statistics.median(latencies):.1f} ms, "
          f"p95 {percentile(latencies, 95):.1f} ms, p99 {percentile(latencies, 99):.1f} ms, "
          f"max {max(latencies):.1f} ms")
    for i, ((rss0, cpu0), (rss1, cpu1)) in enumerate(zip(before, after, strict=True)):
        print(f"instance {i}: RSS {rss0:.0f} -> {rss1:.0f} MiB; CPU {cpu1 - cpu0:.1f} s over "
              f"{elapsed:.0f} s ({(cpu1 - cpu0) / elapsed:.0%} of one core)")
    print(f"throughput {len(latencies) / elapsed:.1f} messages/s")


if __name__ == "__main__":
    main()
