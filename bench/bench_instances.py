"""Two instances on PostgreSQL and Redis: how long until a bank edit on one is searchable on the other.

    python bench/bench_instances.py [--edits 30]

Starts two `assist serve` processes against a fresh PostgreSQL database on 127.0.0.1:5432 and the Redis
on 127.0.0.1:6379. Each edit creates an approved phrase with a unique word on instance A, then polls
instance B's /api/suggest (every 5 ms) until the phrase comes back; the delay includes the commit, the
Redis notice, B's re-read from PostgreSQL, encoding the new text and the poll itself.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import tempfile
import time

import httpx
from bench_live import start_server
from sqlalchemy import create_engine, text

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def start(data: str, db_url: str, prefix: str) -> tuple[subprocess.Popen[bytes], str]:
    server, port = start_server(
        {
            **os.environ,
            "ASSIST_DATA_DIR": data,
            "ASSIST_LOG_LEVEL": "WARNING",
            "ASSIST_DATABASE_URL": db_url,
            "ASSIST_BROKER_URL": "redis://127.0.0.1:6379/0",
            "ASSIST_BROKER_PREFIX": prefix,
            "ASSIST_SEED_PHRASEBANK": "false",
        }
    )
    return server, f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=30)
    args = parser.parse_args()
    name = f"assist_bench_{os.getpid()}"
    admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    db_url = ADMIN.rsplit("/", 1)[0] + f"/{name}"
    prefix = f"bench-{secrets.token_hex(4)}"
    procs = []
    delays = []
    try:
        with tempfile.TemporaryDirectory() as data:
            a, base_a = start(f"{data}/a", db_url, prefix)
            procs.append(a)
            b, base_b = start(f"{data}/b", db_url, prefix)
            procs.append(b)
            with httpx.Client() as http:
                for n in range(args.edits):
                    word = f"zq{secrets.token_hex(3)}"
                    t0 = time.perf_counter()
                    r = http.post(
                        f"{base_a}/api/phrases",
                        json={
                            "key": f"bench.{n}",
                            "text": {"en": f"We will sort out the {word} for you today."},
                            "situations": ["defect"],
                            "emotions": ["neutral"],
                            "status": "approved",
                        },
                    )
                    r.raise_for_status()
                    while True:
                        items = http.post(f"{base_b}/api/suggest", json={"text": word, "k": 3}).json()["items"]
                        if any(i["key"] == f"bench.{n}" for i in items):
                            break
                        if time.perf_counter() - t0 > 10:
                            raise SystemExit(f"edit {n} never reached instance B")
                        time.sleep(0.005)
                    delays.append((time.perf_counter() - t0) * 1000)
    finally:
        for p in procs:
            p.terminate()
            p.wait(30)
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    ordered = sorted(delays)
    print(
        f"{len(delays)} edits: create on A -> searchable on B: median {statistics.median(delays):.0f} ms, "
        f"p95 {ordered[int(0.95 * (len(ordered) - 1))]:.0f} ms, max {ordered[-1]:.0f} ms"
    )


if __name__ == "__main__":
    main()
