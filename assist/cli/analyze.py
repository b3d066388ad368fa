"""`assist analyze` (one message or a JSONL conversation) and `assist eval analysis`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from assist.analysis import Analyzer
from assist.analysis.evaluate import CONVERSATIONS, MESSAGES, evaluate
from assist.cli import echo_json, eval_group, fail, main, read_conversation
from assist.errors import AssistError
from assist.vocab import EMOTIONS


def _human(result: dict[str, Any]) -> None:
    e = result["emotion"]
    click.echo(
        f"lang: {result['lang']}{' (mixed)' if result['mixed'] else ''}{'  [truncated]' if result['truncated'] else ''}"
    )
    click.echo(f"emotion: {e['label']} ({e['intensity']:.2f})   trend: {result['trend']}")
    for cue in e["cues"]:
        click.echo(f"  cue {cue['kind']:<11} msg {cue['message']} [{cue['start']}:{cue['end']}] {cue['text'][:60]!r}")
    for dim, value in result["customer"].items():
        if value["label"] != "unknown":
            click.echo(f"customer {dim}: {value['label']} ({value['confidence']:.2f})")
    for hint in result["hints"]:
        click.echo(f"hint [{hint['for']}] {hint['text']}")


@main.command("analyze")
@click.argument("text", required=False)
@click.option(
    "--conversation",
    "conversation",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='JSONL file, one {"role": "customer"|"agent", "text": ..., "t": seconds} per line',
)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def analyze(text: str | None, conversation: Path | None, as_json: bool) -> None:
    """Emotion, cues, customer profile and hints for one message or a conversation."""
    if (text is None) == (conversation is None):
        fail("give either TEXT or --conversation FILE", 2)
    analyzer = Analyzer.load()
    try:
        if conversation is not None:
            result = analyzer.analyze_conversation(read_conversation(conversation))
        else:
            result = analyzer.analyze_message(text or "")
    except AssistError as exc:
        fail(exc.detail, 2)
    if as_json:
        echo_json(result)
    else:
        _human(result)


@eval_group.command("analysis")
@click.option(
    "--messages", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=MESSAGES, show_default=True
)
@click.option(
    "--conversations",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=CONVERSATIONS,
    show_default=True,
)
@click.option("--json", "as_json", is_flag=True, help="machine-readable report")
@click.option("--errors", "show_errors", is_flag=True, help="list the misread cases")
def eval_analysis(messages: Path, conversations: Path, as_json: bool, show_errors: bool) -> None:
    """Per-label precision, recall, F1 and confusion for emotion and cues; recall per profile label."""
    report = evaluate(messages, conversations)
    if as_json:
        echo_json(report)
        return
    m, c = report["messages"], report["conversations"]
    click.echo(f"messages: {m['count']} {m['by_lang']}   language accuracy {m['lang_accuracy']:.3f}")
    click.echo(f"emotion macro-F1 {m['emotion']['macro_f1']:.3f}   accuracy {m['emotion']['accuracy']:.3f}")
    click.echo(f"{'label':<15}{'P':>7}{'R':>7}{'F1':>7}{'n':>5}")
    for label, v in m["emotion"]["per_label"].items():
        click.echo(f"{label:<15}{v['precision']:>7.3f}{v['recall']:>7.3f}{v['f1']:>7.3f}{v['support']:>5}")
    click.echo("confusion (rows = labelled, columns = predicted):")
    click.echo(" " * 15 + "".join(f"{e[:6]:>7}" for e in EMOTIONS))
    for label, row in m["emotion"]["confusion"].items():
        click.echo(f"{label:<15}" + "".join(f"{row[e]:>7}" for e in EMOTIONS))
    click.echo(f"{'cue':<15}{'P':>7}{'R':>7}{'F1':>7}{'n':>5}")
    for kind, v in m["cues"].items():
        click.echo(f"{kind:<15}{v['precision']:>7.3f}{v['recall']:>7.3f}{v['f1']:>7.3f}{v['support']:>5}")
    click.echo(f"conversations: {c['count']} {c['by_lang']}")
    click.echo(f"{'profile label':<30}{'recall':>8}{'n':>5}")
    for label, v in c["profile"].items():
        click.echo(f"{label:<30}{v['recall']:>8.3f}{v['support']:>5}")
    if show_errors:
        for err in [*m["errors"], *c["errors"]]:
            click.echo(f"  miss {err}")
