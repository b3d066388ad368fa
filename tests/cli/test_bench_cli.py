"""`assist bench` names real scripts with real options (running them is the benchmark's job, not a test's)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from assist.cli import main
from assist.cli.bench import BENCH, SUITES

OPTIONS: dict[str, set[str]] = {}
for _commands in SUITES.values():
    for _script, *_args in _commands:
        OPTIONS.setdefault(_script, set()).update(a for a in _args if a.startswith("--"))


@pytest.mark.slow  # runs each bench script (`--help` imports torch) in a process of its own
@pytest.mark.parametrize(("script", "options"), sorted(OPTIONS.items()))
def test_bench_suites_name_existing_scripts_and_options(script: str, options: set[str]) -> None:
    assert (BENCH / script).is_file()
    help_text = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"], capture_output=True, text=True, cwd=BENCH.parent, timeout=120
    )
    assert help_text.returncode == 0, help_text.stderr
    for option in options:
        assert option in help_text.stdout


def test_bench_rejects_unknown_suite(runner: CliRunner) -> None:
    assert runner.invoke(main, ["bench", "everything"]).exit_code == 2


def test_bench_has_saturation_and_memory_suites() -> None:
    assert ["bench_live.py", "--saturate", "--conversations", "32", "--seconds", "30"] in SUITES["saturation"]
    assert SUITES["memory"] == [["bench_memory.py", "--phrases", "10000"]]
    two = [args for script, *args in SUITES["instances"] if script == "bench_live.py"]
    assert all(args[:2] == ["--instances", "2"] for args in two)
    assert {args[args.index("--conversations") + 1] for args in two} == {"1", "10", "50", "200", "32"}
    assert any("--saturate" in args for args in two)
