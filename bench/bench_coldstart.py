"""Cold start of the service with the shipped bank: first start (empty data dir) and restart (vector cache).

    python bench/bench_coldstart.py

Each start is a fresh Python process that builds the app and runs its lifespan (store, seeding, analyzer,
index build, rewriter), as `assist serve` does before it accepts connections; it reports when the service
answers and when the model, loaded beside it by default (`ASSIST_RETRIEVAL__MODEL_LOAD`), is ready. A first start
takes the shipped bank's vectors from the package (assist/data/vectors.npz) and encodes only texts not found there.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile

START = """
import time
t0 = time.perf_counter()
from fastapi.testclient import TestClient
from assist.app import create_app
from assist.config import Settings
app = create_app(Settings(_env_file=None, data_dir={data!r}))
with TestClient(app) as c:
    assert c.get("/api/health").status_code == 200
    answering = time.perf_counter() - t0
    encoders = app.state.services.suggester.searcher.routes.encoders  # an encoder per language: all of them
    while not all(getattr(e, "ready", True) for e in encoders) and time.perf_counter() - t0 < 120:
        time.sleep(0.05)
    print(f"{{answering:.2f}} {{time.perf_counter() - t0:.2f}}")
"""


def start(data: str) -> tuple[float, float]:
    """Seconds from the interpreter's start to the service answering, and to the model loaded."""
    out = subprocess.run([sys.executable, "-c", START.format(data=data)], capture_output=True, text=True, check=True)
    answering, model = (float(x) for x in out.stdout.strip().splitlines()[-1].split())
    return answering, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restarts", type=int, default=3, help="restarts measured after the first start")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        first = start(data)
        again = [start(data) for _ in range(args.restarts)]
    print("seconds after the interpreter started: answering (health 200, every language searchable) / models loaded")
    print(f"first start (empty data dir):   {first[0]:.1f} / {first[1]:.1f}")
    for n, (answering, model) in enumerate(again, 1):
        print(f"restart {n} (vector cache):      {answering:.1f} / {model:.1f}")


if __name__ == "__main__":
    main()
