"""Cold start of the service with the shipped bank: first start (encodes the bank) and restart (vector cache).

    python bench/bench_coldstart.py

Each start is a fresh Python process that builds the app and runs its lifespan (store, seeding, model load,
index build), as `assist serve` does before it accepts connections.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time

START = """
import time
t0 = time.perf_counter()
from fastapi.testclient import TestClient
from assist.app import create_app
from assist.config import Settings
with TestClient(create_app(Settings(_env_file=None, data_dir={data!r}))) as c:
    assert c.get("/api/health").status_code == 200
print(f"{{time.perf_counter() - t0:.2f}}")
"""


def start(data: str) -> tuple[float, float]:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", START.format(data=data)], capture_output=True, text=True, check=True)
    inner = float(out.stdout.strip().splitlines()[-1])
    return time.perf_counter() - t0, inner


def main() -> None:
    with tempfile.TemporaryDirectory() as data:
        first = start(data)
        again = [start(data) for _ in range(3)]
    print(f"first start (encodes the bank): {first[0]:.1f} s wall, {first[1]:.1f} s after interpreter start")
    for n, (wall, inner) in enumerate(again, 1):
        print(f"restart {n} (vector cache):      {wall:.1f} s wall, {inner:.1f} s after interpreter start")


if __name__ == "__main__":
    main()
