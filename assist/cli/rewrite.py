"""`assist rewrite` (one draft) and `assist eval rewrite` (the project's rewrite set)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from assist.cli import echo_json, eval_group, fail, main
from assist.errors import AssistError
from assist.languages import codes
from assist.rewrite import Rewriter
from assist.rewrite.evaluate import BLIND_SET, DEFAULT_SET, evaluate, load_set


def _lang(ctx: click.Context, param: click.Parameter, value: str) -> str:
    choices = ("auto", *codes())
    if value not in choices:
        raise click.BadParameter(f"{value!r} is not one of {', '.join(map(repr, choices))}.", ctx, param)
    return value


def _human(result: dict[str, Any]) -> None:
    click.echo(result["rewritten"])
    for c in result["changes"]:
        click.echo(f"  [{c['start']}:{c['end']}] {c['before']!r} -> {c['after']!r}  ({c['rule']}) {c['why']}", err=True)
    for f in result["flags"]:
        click.echo(f"  flag [{f['start']}:{f['end']}] {f['text']!r}  ({f['rule']}) {f['why']}", err=True)


@main.command("rewrite")
@click.argument("text", required=False)
@click.option(
    "--lang",
    default="auto",
    show_default=True,
    callback=_lang,
    help="auto (detect) or a registered language code (assist.languages)",
)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def rewrite(text: str | None, lang: str, as_json: bool) -> None:
    """Rewrite a draft (TEXT, or stdin when omitted) from negative to positive phrasing."""
    if text is None:
        text = sys.stdin.read()
    try:
        result = Rewriter.load().rewrite(text, lang).as_dict()
    except AssistError as exc:
        fail(exc.detail, 2)
    if as_json:
        echo_json(result)
    else:
        _human(result)


def _print_report(report: dict[str, Any]) -> None:
    def line(name: str, t: dict[str, Any]) -> str:
        flagged = f", flagged {t['flagged']}/{t['flag_expected']}" if t["flag_expected"] else ""
        return (
            f"{name:<8} fixed {t['fixed']}/{t['negative']} ({t['fixed_pct']}%), "
            f"fixed or flagged {t['handled']}/{t['negative']} ({t['handled_pct']}%){flagged}, "
            f"clean untouched {t['clean_untouched']}/{t['clean']}, "
            f"idempotent {t['idempotent']}/{t['drafts']}"
        )

    click.echo(f"set: {report['set']}")
    click.echo(line("all", report["overall"]))
    for name, t in report["by_lang"].items():
        click.echo(line(name, t))
    for name, t in report["by_split"].items():
        click.echo(line(name, t))
    for f in report["failures"]:
        click.echo(f"FAIL {f['id']} ({f['kind']}): {'; '.join(f['problems'])}")
        click.echo(f"     {f['text']}\n  -> {f['rewritten']}")


@eval_group.command("rewrite")
@click.option(
    "--set",
    "set_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"a rewrite eval set (YAML); default: {DEFAULT_SET.name} (dev), then {BLIND_SET.name} (blind)",
)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def eval_rewrite(set_path: Path | None, as_json: bool) -> None:
    """Negative drafts fixed or flagged, clean drafts untouched and idempotence, per language.

    Without --set: the dev set, and the blind set (written before the v2 rules) reported apart under "blind".
    """
    paths = [set_path] if set_path else [DEFAULT_SET, *([BLIND_SET] if BLIND_SET.is_file() else [])]
    rewriter = Rewriter.load()
    reports = []
    for path in paths:
        try:
            drafts = load_set(path)
        except AssistError as exc:
            fail(exc.detail, 2)
        reports.append(evaluate(rewriter, drafts, str(path)).as_dict())
    report = reports[0]
    if len(reports) > 1:
        report["blind"] = reports[1]
    if as_json:
        echo_json(report)
        return
    for r in reports:
        _print_report(r)
