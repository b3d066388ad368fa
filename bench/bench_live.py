"""End-to-end latency over websockets: customer message sent -> `suggestions` event received.

    python bench/bench_live.py [--conversations 50] [--interval 2.0] [--seconds 60] [--instances 1|2]
    python bench/bench_live.py --saturate [--conversations 32] [--inflight 1] [--seconds 30] [--warmup 5]

Starts `assist serve` as its own process on a free port with a fresh data dir (the shipped bank, the
default model), then opens one websocket per conversation. Each connection subscribes to its
conversation and sends a customer message (texts from eval/retrieval.yml, all three languages) every
`interval` seconds, starting at a random phase; each text gets a number of its own appended (`--same-texts`
sends them bare, as runs before 2026-12-01 did). Reported: latency percentiles, messages per second, and
the server's resident memory and CPU time. The load generator runs on the same two cores.

With `--saturate` the load is a closed loop instead: each conversation sends its next message as soon as
the `suggestions` event of an earlier one arrived, keeping `inflight` messages outstanding, so the server
runs flat out. Counted are the answers that arrive after `warmup` seconds; the load generator's own CPU
time is reported too, since it shares the cores.

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
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


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


class Run:
    """What the open-loop conversations share: the load starts when the last one has connected and subscribed
    (opening 400 websockets takes a while), and runs `seconds` from then; messages sent are counted."""

    def __init__(self, conversations: int, seconds: float, mark: Callable[[], None]) -> None:
        self.waiting = conversations
        self.seconds = seconds
        self.mark = mark
        self.go = asyncio.Event()
        self.until = 0.0
        self.sent = 0

    async def connected(self) -> float:
        """Wait for every conversation; the time the load ends."""
        self.waiting -= 1
        if self.waiting == 0:
            self.mark()
            self.until = time.perf_counter() + self.seconds
            self.go.set()
        await self.go.wait()
        return self.until


async def conversation(
    feed_url: str,
    watch_url: str,
    cid: str,
    texts: Texts,
    interval: float,
    run: Run,
    latencies: list[float],
    rng: random.Random,
) -> None:
    async with connect(watch_url, max_size=None) as ws, connect(feed_url) as feed:
        await ws.recv()
        await feed.recv()
        await ws.send(json.dumps({"type": "subscribe", "conversation_id": cid}))
        await ws.recv()  # subscribed
        until = await run.connected()
        sent: dict[str, float] = {}

        async def reader() -> None:
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "suggestions" and frame["message_id"] in sent:
                    latencies.append((time.perf_counter() - sent.pop(frame["message_id"])) * 1000)

        async def acks() -> None:
            # Read and drop: an unread queue of acks makes the client stop reading the socket, so the server's
            # pongs go unread and the client's keepalive closes the connection (1011) after 40-60 s.
            async for _ in feed:
                pass

        tasks = [asyncio.create_task(reader()), asyncio.create_task(acks())]
        await asyncio.sleep(rng.uniform(0, interval))
        n = 0
        while time.perf_counter() < until:
            n += 1
            mid = f"{cid}-{n}"
            sent[mid] = time.perf_counter()
            run.sent += 1
            await feed.send(
                json.dumps(
                    {
                        "type": "message",
                        "conversation_id": cid,
                        "role": "customer",
                        "text": texts.pick(rng),
                        "message_id": mid,
                    },
                    ensure_ascii=False,
                )
            )
            await asyncio.sleep(interval)
        await asyncio.sleep(2)  # let the last answers arrive (counted unanswered after that)
        for task in tasks:
            task.cancel()


# A suggestions frame names its message before its items; finding both by pattern keeps the load generator from
# parsing every frame it receives (it shares the two cores with the server).
SUGGESTIONS = re.compile(r'"type": ?"suggestions"')
MESSAGE_ID = re.compile(r'"message_id": ?"([^"]+)"')


async def closed_loop(
    feed_url: str,
    watch_url: str,
    cid: str,
    texts: Texts,
    inflight: int,
    measure: float,
    until: float,
    latencies: list[float],
    rng: random.Random,
) -> None:
    """One conversation that sends its next message when an earlier one's suggestions arrive."""
    async with connect(watch_url, max_size=None) as ws, connect(feed_url) as feed:
        await ws.recv()
        await feed.recv()
        await ws.send(json.dumps({"type": "subscribe", "conversation_id": cid}))
        await ws.recv()  # subscribed
        sent: dict[str, float] = {}
        answered = asyncio.Semaphore(inflight)

        async def reader() -> None:
            async for raw in ws:
                if isinstance(raw, str) and SUGGESTIONS.search(raw, 0, 40):
                    found = MESSAGE_ID.search(raw)
                    if found and found.group(1) in sent:
                        now = time.perf_counter()
                        began = sent.pop(found.group(1))
                        if now >= measure:
                            latencies.append((now - began) * 1000)
                        answered.release()

        async def acks() -> None:
            async for _ in feed:  # acks: read and drop, so they never back up
                pass

        tasks = [asyncio.create_task(reader()), asyncio.create_task(acks())]
        n = 0
        try:
            while True:
                try:
                    await asyncio.wait_for(answered.acquire(), 30)
                except TimeoutError:
                    break  # an answer that never came (dropped): stop this conversation rather than hang
                if time.perf_counter() >= until:
                    break
                n += 1
                mid = f"{cid}-{n}"
                sent[mid] = time.perf_counter()
                await feed.send(
                    json.dumps(
                        {
                            "type": "message",
                            "conversation_id": cid,
                            "role": "customer",
                            "text": texts.pick(rng),
                            "message_id": mid,
                        },
                        ensure_ascii=False,
                    )
                )
        finally:
            for task in tasks:
                task.cancel()


class Texts:
    """Customer texts from eval/retrieval.yml: half Chinese (zh-Hans and zh-Hant), half English, as issue 14's
    mixed load asks. Unless `same`, each message gets a number of its own appended (like an order number), so no
    two messages are equal and a cache keyed on the message text helps no more than it would with real customers."""

    def __init__(self, same: bool = False) -> None:
        rows = yaml.safe_load((ROOT / "eval" / "retrieval.yml").read_text(encoding="utf-8"))
        self.en = [r["text"] for r in rows if r["lang"] == "en"]
        self.zh = [r["text"] for r in rows if r["lang"] != "en"]
        self.same = same
        self.count = 0

    def pick(self, rng: random.Random) -> str:
        text = rng.choice(self.en if rng.random() < 0.5 else self.zh)
        if self.same:
            return text
        self.count += 1
        return f"{text} {20261201000000 + self.count}"


async def load(
    urls: list[str], conversations: int, interval: float, seconds: float, texts: Texts, mark: Callable[[], None]
) -> tuple[list[float], int]:
    """Open-loop load; latencies and the number of messages sent. `mark` is called when the load starts (every
    conversation connected) and when the last answers are in."""
    rng = random.Random(5)
    latencies: list[float] = []
    run = Run(conversations, seconds, mark)
    n = len(urls)
    await asyncio.gather(
        *(
            conversation(
                urls[i % n],
                urls[(i + 1) % n],
                f"bench-{i}",
                texts,
                interval,
                run,
                latencies,
                random.Random(rng.random()),
            )
            for i in range(conversations)
        )
    )
    mark()
    return latencies, run.sent


async def saturate(
    urls: list[str],
    conversations: int,
    inflight: int,
    seconds: float,
    warmup: float,
    texts: Texts,
    mark: Callable[[], None],
) -> list[float]:
    """Closed-loop load; latencies of the answers that arrive in the measured window (after `warmup`).
    `mark` is called when the window opens and when it closes."""
    rng = random.Random(5)
    latencies: list[float] = []
    measure = time.perf_counter() + warmup
    until = measure + seconds
    n = len(urls)

    async def window() -> None:
        await asyncio.sleep(max(0.0, measure - time.perf_counter()))
        mark()
        await asyncio.sleep(max(0.0, until - time.perf_counter()))
        mark()

    await asyncio.gather(
        window(),
        *(
            closed_loop(
                urls[i % n],
                urls[(i + 1) % n],
                f"bench-{i}",
                texts,
                inflight,
                measure,
                until,
                latencies,
                random.Random(rng.random()),
            )
            for i in range(conversations)
        ),
    )
    return latencies


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "assist", "serve"], env={**env, "ASSIST_PORT": str(port)}, cwd=ROOT
    )
    wait_ready(server, f"http://127.0.0.1:{port}")
    return server, port


def wait_ready(server: subprocess.Popen[bytes], base: str, seconds: float = 180) -> None:
    """Wait until a started `assist serve` answers with its model loaded (it answers before that, English on
    the lexical channel; a run measured then would time the model's loading too)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            health = httpx.get(f"{base}/api/health", timeout=1)
            body = health.json() if health.status_code == 200 else {}
            # Every encoder (an encoder per language: retrieval.lang_models), not only the default one.
            if body and all(m["ready"] for m in body.get("models") or [body["model"]]):
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            raise SystemExit("the server did not start")
        time.sleep(0.3)


def self_cpu() -> float:
    """CPU seconds of this process (the load generator) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run the load on uvloop when it is installed (it comes with uvicorn[standard]): a cheaper client."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--conversations", type=int, default=None, help="concurrent conversations (default 50; 32 with --saturate)"
    )
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between one conversation's messages")
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="how long the load runs (default 60; with --saturate 30, measured after the warm-up)",
    )
    parser.add_argument("--instances", type=int, choices=(1, 2), default=1)
    parser.add_argument(
        "--saturate",
        action="store_true",
        help="closed loop: each conversation sends its next message when suggestions arrive",
    )
    parser.add_argument(
        "--inflight", type=int, default=1, help="with --saturate: messages outstanding per conversation"
    )
    parser.add_argument("--warmup", type=float, default=5.0, help="with --saturate: seconds of load not counted")
    parser.add_argument(
        "--same-texts",
        action="store_true",
        help="send the eval texts as they are (repeating), not each with a number of its own",
    )
    args = parser.parse_args()
    conversations = args.conversations or (32 if args.saturate else 50)
    seconds = args.seconds or (30.0 if args.saturate else 60.0)
    servers: list[tuple[subprocess.Popen[bytes], int]] = []
    database = None
    marks: list[tuple[float, float, list[tuple[float, float]]]] = []  # (time, own CPU, [(RSS, CPU) per server])

    def mark() -> None:
        marks.append((time.perf_counter(), self_cpu(), [proc_stats(p.pid) for p, _ in servers]))

    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "ASSIST_LOG_LEVEL": "WARNING"}
        if args.instances == 2:
            from sqlalchemy import create_engine, text

            database = f"assist_bench_{os.getpid()}"
            admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {database}"))
            env.update(
                ASSIST_DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
                ASSIST_BROKER_URL="redis://127.0.0.1:6379/0",
                ASSIST_BROKER_PREFIX=f"bench-{os.getpid()}",
            )
        try:
            for i in range(args.instances):
                servers.append(start_server({**env, "ASSIST_DATA_DIR": f"{data}/{i}"}))
            urls = [f"ws://127.0.0.1:{port}/ws" for _, port in servers]
            loadavg = Path("/proc/loadavg").read_text().split()[0]
            if args.saturate:
                latencies = run_loop(
                    saturate(urls, conversations, args.inflight, seconds, args.warmup, Texts(args.same_texts), mark)
                )
            else:
                latencies, sent = run_loop(
                    load(urls, conversations, args.interval, seconds, Texts(args.same_texts), mark)
                )
        finally:
            for i, (p, _) in enumerate(servers):
                if p.poll() is not None:
                    print(f"instance {i} exited during the run (code {p.returncode}): the figures are not valid")
                p.terminate()
                p.wait(30)
            if database:
                with admin.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
    (t0, own0, before), (t1, own1, after) = marks[0], marks[-1]
    elapsed = t1 - t0
    if args.saturate:
        print(
            f"instances {args.instances}, saturation: {conversations} conversations, {args.inflight} message(s) "
            f"in flight each, {seconds:g} s measured after {args.warmup:g} s warm-up; load average {loadavg} "
            f"before the run"
        )
    else:
        print(
            f"instances {args.instances}, conversations {conversations}, one message each {args.interval:g} s, "
            f"{seconds:g} s from when all were connected; load average {loadavg} before the run"
        )
        print(f"sent {sent}, answered {len(latencies)} ({sent - len(latencies)} unanswered within 2 s of the end)")
    print(
        f"answered {len(latencies)}: p50 {statistics.median(latencies):.1f} ms, "
        f"p95 {percentile(latencies, 95):.1f} ms, p99 {percentile(latencies, 99):.1f} ms, "
        f"max {max(latencies):.1f} ms"
    )
    for i, ((rss0, cpu0), (rss1, cpu1)) in enumerate(zip(before, after, strict=True)):
        print(
            f"instance {i}: RSS {rss0:.0f} -> {rss1:.0f} MiB; CPU {cpu1 - cpu0:.1f} s over "
            f"{elapsed:.0f} s ({(cpu1 - cpu0) / elapsed:.0%} of one core)"
        )
    print(
        f"load generator: CPU {own1 - own0:.1f} s ({(own1 - own0) / elapsed:.0%} of one core); "
        f"load average {Path('/proc/loadavg').read_text().split()[0]} after"
    )
    print(f"throughput {len(latencies) / (seconds if not args.saturate else elapsed):.1f} messages/s")


if __name__ == "__main__":
    main()
