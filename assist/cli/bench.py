"""`assist bench`: run the benchmark suites in bench/ (the figures go to docs/benchmarks.md by hand)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from assist.cli import fail, main

BENCH = Path(__file__).resolve().parents[2] / "bench"
SUITES: dict[str, list[list[str]]] = {
    "engines": [
        ["bench_analysis.py"],
        ["bench_rewrite.py"],
        ["bench_encode.py"],
        ["bench_search.py", "--sizes", "1000", "10000", "100000"],
    ],
    "live": [["bench_live.py", "--conversations", str(n), "--seconds", "30"] for n in (1, 10, 50, 200)],
    "saturation": [["bench_live.py", "--saturate", "--conversations", "32", "--seconds", "30"]],
    "memory": [["bench_memory.py", "--phrases", "10000"]],
    "instances": [
        *(
            ["bench_live.py", "--instances", "2", "--conversations", str(n), "--seconds", "30"]
            for n in (1, 10, 50, 200)
        ),
        ["bench_live.py", "--instances", "2", "--saturate", "--conversations", "32", "--seconds", "30"],
        ["bench_instances.py"],
    ],
    "startup": [["bench_coldstart.py"]],
}


@main.command()
@click.argument("suite", type=click.Choice([*SUITES, "all"]), default="all")
def bench(suite: str) -> None:
    """Run a benchmark suite: engines, live (1/10/50/200 conversations), saturation (closed loop, one instance),
    memory (RSS with 10,000 phrases), instances (two via Redis: live, saturation, bank edits), startup."""
    if not BENCH.is_dir():
        fail(f"the benchmarks live in the repository's bench/ folder ({BENCH} not found): run from a checkout")
    failed = []
    for name in list(SUITES) if suite == "all" else [suite]:
        for script, *args in SUITES[name]:
            click.echo(f"== {name}: {script} {' '.join(args)}", err=True)
            if subprocess.run([sys.executable, str(BENCH / script), *args], cwd=BENCH.parent).returncode:
                failed.append(script)
    if failed:
        fail(f"failed: {', '.join(failed)}")
