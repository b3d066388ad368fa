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
    for s in result.get("situations", []):
        spans = ", ".join(repr(ev["text"]) for ev in s["evidence"])
        click.echo(f"situation: {s['situation']} ({s['score']:.2f}, {s['source']}){'  ' + spans if spans else ''}")
    for hint in result["hints"]:
        click.echo(f"hint [{hint['for']}] {hint['text']}")
    model = result.get("model") or {}
    click.echo(f"reader: {e.get('source', 'rules')}" + ("" if model.get("active") else f" ({model.get('note')})"))


@main.command("analyze")
@click.argument("text", required=False)
@click.option(
    "--conversation",
    "conversation",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='JSONL file, one {"role": "customer"|"agent", "text": ..., "t": seconds} per line',
)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option(
    "--learned",
    is_flag=True,
    help="load the configured encoder so the learned emotion/situation models read the message (else rules only)",
)
def analyze(text: str | None, conversation: Path | None, as_json: bool, learned: bool) -> None:
    """Emotion, cues, customer profile and hints for one message or a conversation."""
    if (text is None) == (conversation is None):
        fail("give either TEXT or --conversation FILE", 2)
    analyzer = Analyzer.load()
    if learned:  # the configured encoders: the default one and the languages routed to another (lang_models)
        from assist.config import get_settings
        from assist.retrieval.routing import EncoderRoutes
        from assist.services import settings_embedder, settings_lang_encoders

        retrieval = get_settings().retrieval
        analyzer.use_routes(EncoderRoutes(settings_embedder(retrieval), settings_lang_encoders(retrieval)))
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
@click.option(
    "--customer",
    type=click.Choice(["dev", "blind", "blind2", "blind3", "blind4", "train", "none"]),
    default="none",
    show_default=True,
    help="also score eval/customer_messages/<split>: rules only, model only, combined, per language "
    "(blind4: score it once, after choosing on dev; blind, blind2 and blind3, scored once already, are "
    "development data)",
)
@click.option("--goemotions", is_flag=True, help="also score GoEmotions dev (../shared/data), mapped to our labels")
@click.option("--encoder", "encoder_name", default=None, help="encoder for the learned model (default: configured)")
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="encoded-vector cache (default: that of `assist train emotion`)",
)
@click.option("--customer-dir", type=click.Path(file_okay=False, path_type=Path), default=None, hidden=True)
def eval_analysis(
    customer_dir: Path | None,
    messages: Path,
    conversations: Path,
    as_json: bool,
    show_errors: bool,
    customer: str,
    goemotions: bool,
    encoder_name: str | None,
    cache: Path | None,
) -> None:
    """Per-label precision, recall, F1 and confusion for emotion and cues; recall per profile label; with
    `--customer`, the learned model against the rules on the customer-message corpus."""
    report = evaluate(messages, conversations)
    if customer != "none":
        report["learned"] = _learned_report(customer, goemotions, encoder_name, cache, customer_dir)
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
    if "learned" in report:
        _print_learned(report["learned"])


def _learned_report(
    split: str, goemotions: bool, encoder_name: str | None, cache: Path | None, customer_dir: Path | None
) -> dict[str, Any]:
    from assist.analysis.analyzer import encoder_id
    from assist.analysis.learned import load_shipped, load_shipped_others
    from assist.analysis.training import evaluate_customer
    from assist.cli.train import DEFAULT_CACHE, default_encoder, make_encoder

    shipped = [m for m in [load_shipped(), *load_shipped_others()] if m is not None]
    if not shipped:
        return {"skipped": "no learned model shipped (assist train emotion)"}
    name = encoder_name or default_encoder()
    # The packaged file trained on this encoder (learned.npz for e5, learned_minilm.npz for MiniLM).
    models = next((m for m in shipped if encoder_id(m.encoder) == encoder_id(name)), None)
    if models is None:
        trained = ", ".join(repr(m.encoder) for m in shipped)
        return {"skipped": f"encoder {name!r} is not a shipped model's ({trained}): rules only"}
    try:
        encoder = make_encoder(name)
    except (ImportError, ValueError, OSError) as exc:
        fail(f"encoder {name!r}: {exc}", 2)
    return evaluate_customer(split, encoder, cache or DEFAULT_CACHE, models, customer_dir, goemotions=goemotions)


def _print_learned(rep: dict[str, Any]) -> None:
    if "skipped" in rep:
        click.echo(f"learned model: {rep['skipped']}")
        return
    click.echo(f"customer messages, {rep['split']} split (encoder {rep['encoder']}):")
    click.echo(f"{'lang':<9}{'reading':<10}{'emo F1':>8}{'acc':>7}{'neutral%':>9}{'sit top1':>9}{'sit any':>8}")
    for lang, v in rep["customer"].items():
        for kind in ("rules", "model", "combined"):
            e, s = v["emotion"][kind], (v["situation"] or {}).get(kind, {})
            click.echo(
                f"{lang:<9}{kind:<10}{e['macro_f1']:>8.3f}{e['accuracy']:>7.3f}"
                f"{100 * e['neutral_rate_on_emotional']:>8.1f}%"
                f"{s.get('top1_main', 0):>9.3f}{s.get('top1_any', 0):>8.3f}"
            )
    for lang, v in rep["customer"].items():
        click.echo(f"{lang}: per-label P/R (rules | model | combined)")
        for label in EMOTIONS:
            cells = "  ".join(
                f"{v['emotion'][k]['per_label'][label]['precision']:.2f}/{v['emotion'][k]['per_label'][label]['recall']:.2f}"
                for k in ("rules", "model", "combined")
            )
            click.echo(f"  {label:<15}{cells}")
        if v["situation"]:
            click.echo(f"{lang}: situation per-label P/R (rules | model | combined)")
            for sit in v["situation"]["combined"]["per_label"]:
                cells = "  ".join(
                    f"{v['situation'][k]['per_label'][sit]['precision']:.2f}/{v['situation'][k]['per_label'][sit]['recall']:.2f}"
                    for k in ("rules", "model", "combined")
                )
                click.echo(f"  {sit:<15}{cells}")
    if "goemotions_dev" in rep:
        g = rep["goemotions_dev"]
        click.echo(
            "GoEmotions dev (mapped) macro-F1: "
            + ", ".join(
                f"{k} {g[k]['macro_f1']:.3f} (neutral on emotional {100 * g[k]['neutral_rate_on_emotional']:.1f}%)"
                for k in g
            )
        )
