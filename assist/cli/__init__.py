"""The `assist` command line: one click group; each subcommand lives in its own module."""

from __future__ import annotations

import json
import sys
from importlib import import_module
from pathlib import Path
from typing import Any, NoReturn

import click

from assist import __version__
from assist.errors import AssistError


class AssistGroup(click.Group):
    """Every expected error (assist.errors.AssistError) ends the command with `error: <detail>` on stderr and an
    exit code, never a traceback: 2 bad input, 3 a backing service unavailable, 1 anything else."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AssistError as exc:
            code = 2 if exc.status in (400, 413, 422) else 3 if exc.status == 503 else 1
            fail(" ".join(str(exc.detail).split()), code)


@click.group(cls=AssistGroup)
@click.version_option(__version__, prog_name="assist")
def main() -> None:
    """Agent Assist: real-time reply assistant for customer-service chat."""


@main.group("eval")
def eval_group() -> None:
    """Evaluate a part against the project's labelled sets."""


def echo_json(data: Any) -> None:
    """Print machine-readable output: UTF-8 JSON, Chinese unescaped."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def read_conversation(path: Path) -> list[dict[str, Any]]:
    """JSONL turns `{"role": "customer"|"agent", "text": ..., "t": seconds}`; a bad line stops with its number."""
    turns = []
    for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip():
            continue
        try:
            turn = json.loads(line)
        except json.JSONDecodeError as exc:
            fail(f"{path}:{n}: not JSON ({exc.msg})", 2)
        if (
            not isinstance(turn, dict)
            or turn.get("role") not in ("customer", "agent")
            or not isinstance(turn.get("text"), str)
        ):
            fail(f'{path}:{n}: expected {{"role": "customer"|"agent", "text": "...", "t": seconds}}', 2)
        turns.append(turn)
    return turns


# Each module registers its commands on `main` or `eval_group` when imported.
for _name in ("serve", "bank", "token", "suggest", "bench", "analyze", "rewrite", "train"):
    import_module(f"assist.cli.{_name}")
