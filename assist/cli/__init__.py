"""The `assist` command line: one click group; each subcommand lives in its own module."""

from __future__ import annotations

import json
import sys
from importlib import import_module
from typing import Any

import click

from assist import __version__


@click.group()
@click.version_option(__version__, prog_name="assist")
def main() -> None:
    """Agent Assist: real-time reply assistant for customer-service chat."""


@main.group("eval")
def eval_group() -> None:
    """Evaluate a part against the project's labelled sets."""


def echo_json(data: Any) -> None:
    """Print machine-readable output: UTF-8 JSON, Chinese unescaped."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


# Each module registers its commands on `main` or `eval_group` when imported.
for _name in ("serve", "bank", "token", "suggest", "analyze", "rewrite"):
    import_module(f"assist.cli.{_name}")
