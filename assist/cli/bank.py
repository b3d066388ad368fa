"""`assist bank …`: import, export, validate and count the phrase bank from the shell."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import numpy as np

from assist.bank import io
from assist.bank.db import Database
from assist.bank.store import PhraseFilter, PhraseStore
from assist.bank.usage import UsageStore
from assist.bank.vectors import SHIPPED_VECTORS, ShippedVectors, bank_texts
from assist.cli import echo_json, fail, main
from assist.config import get_settings

CLI_ACTOR = "cli"


def _store() -> PhraseStore:
    return PhraseStore.connect(get_settings().sqlalchemy_url)


def _parse_file(path: Path, fmt: str | None) -> io.Parsed:
    fmt = fmt or io.guess_format(path.name)
    if fmt is None:
        fail(f"cannot tell the format of {path.name}; pass --format yaml|csv|jsonl", 2)
    return io.parse(path.read_bytes(), fmt)


def _report_errors(parsed: io.Parsed, path: Path, as_json: bool) -> None:
    if as_json:
        echo_json({"ok": False, "errors": [e.as_dict() for e in parsed.errors]})
    else:
        for e in parsed.errors:
            where = f"{path}:{e.line}" if e.line else str(path)
            key = f" [{e.key}]" if e.key else ""
            click.echo(f"{where}:{key} {e.reason}", err=True)
        click.echo(f"{len(parsed.errors)} bad row(s); nothing was imported", err=True)
    sys.exit(1)


@main.group()
def bank() -> None:
    """Manage the phrase bank in the configured store (ASSIST_DATABASE_URL)."""


@bank.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(io.FORMATS), help="default: from the file extension")
@click.option("--dry-run", is_flag=True, help="check and report what would change; write nothing")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def import_(file: Path, fmt: str | None, dry_run: bool, as_json: bool) -> None:
    """Import phrases by key from YAML, CSV or JSONL: all rows or none."""
    parsed = _parse_file(file, fmt)
    if parsed.errors:
        _report_errors(parsed, file, as_json)
    report = _store().import_entries(parsed.entries, CLI_ACTOR, dry_run=dry_run).as_dict()
    if as_json:
        echo_json({"ok": True, **report, "encoding": parsed.encoding})
    else:
        verb = "would import" if dry_run else "imported"
        click.echo(f"{verb}: {report['created']} new, {report['updated']} updated, {report['unchanged']} unchanged")


@bank.command()
@click.option("--format", "fmt", type=click.Choice(io.FORMATS), default="yaml", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="default: standard output")
@click.option("--status", "statuses", multiple=True, type=click.Choice(["draft", "approved", "retired"]))
def export(fmt: str, out: Path | None, statuses: tuple[str, ...]) -> None:
    """Export the bank; the output imports back unchanged."""
    text = io.dump(_store().entries(PhraseFilter(statuses=statuses)), fmt)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8", newline="")
        click.echo(f"wrote {out}", err=True)


@bank.command()
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def stats(as_json: bool) -> None:
    """Phrase counts by status, language and label, and usage totals."""
    data = UsageStore(Database.connect(get_settings().sqlalchemy_url)).stats()
    if as_json:
        echo_json(data)
        return
    p = data["phrases"]
    click.echo(f"phrases: {p['total']}  " + "  ".join(f"{k}: {v}" for k, v in sorted(p["by_status"].items())))
    click.echo("texts:   " + "  ".join(f"{k}: {v}" for k, v in sorted(p["by_lang"].items())))
    for kind, counts in data["approved_by_label"].items():
        if counts:
            click.echo(f"{kind}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    u = data["usage"]
    rate = "n/a" if u["acceptance_rate"] is None else f"{u['acceptance_rate']:.1%}"
    click.echo(f"usage: shown {u['shown']}, used {u['used']}, dismissed {u['dismissed']}, acceptance {rate}")


@bank.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(io.FORMATS), help="default: from the file extension")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def validate(file: Path, fmt: str | None, as_json: bool) -> None:
    """Check an import file without touching the store."""
    parsed = _parse_file(file, fmt)
    if parsed.errors:
        _report_errors(parsed, file, as_json)
    if as_json:
        echo_json({"ok": True, "rows": len(parsed.entries), "encoding": parsed.encoding})
    else:
        click.echo(f"{file}: {len(parsed.entries)} phrase(s), all valid ({parsed.encoding})")


@bank.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=SHIPPED_VECTORS,
    show_default=True,
    help="the vectors file to write",
)
@click.option(
    "--phrasebank",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="phrase bank folder (default: the shipped one, ASSIST_PHRASEBANK_DIR)",
)
@click.option("--fresh", is_flag=True, help="encode every text again instead of keeping the vectors --out has")
def vectors(out: Path, phrasebank: Path | None, fresh: bool) -> None:
    """Write the phrase bank's vectors (texts and examples) for the configured models (the default one for every
    language, and those of languages routed to another, `lang_models`, for theirs), so a first start copies
    them instead of encoding: the file shipped in the package is made this way."""
    from assist.bank.content import load_shipped
    from assist.retrieval.embedder import cache_name, encode_queries, query_cache_name, text_hash
    from assist.retrieval.routing import EncoderRoutes
    from assist.services import settings_embedder, settings_lang_encoders

    settings = get_settings()
    entries = [e for _, e in load_shipped(phrasebank or settings.phrasebank_dir)]
    routes = EncoderRoutes(settings_embedder(settings.retrieval), settings_lang_encoders(settings.retrieval))
    old = ShippedVectors(out) if out.is_file() and not fresh else ShippedVectors(Path("/nonexistent"))
    made: dict[str, dict[str, np.ndarray]] = {}
    work = []
    for encoder in routes.encoders:
        # The default model's vectors of every language (turning `lang_models` off then encodes nothing on a
        # first start); a routed model's of its languages.
        langs = [
            lang
            for lang in settings.retrieval.model_langs
            if encoder is routes.default or routes.for_lang(lang) is encoder
        ]
        passages, queries = bank_texts(entries, langs)
        work += [(encoder, passages, cache_name(encoder), False), (encoder, queries, query_cache_name(encoder), True)]
    for encoder, texts, model, queries_ in work:
        hashes = [text_hash(t) for t in texts]
        kept = old.lookup(model, hashes)
        todo = [t for t, h in zip(texts, hashes, strict=True) if h not in kept]
        click.echo(f"{model}: {len(texts)} texts, {len(kept)} kept, {len(todo)} to encode", err=True)
        vecs = np.zeros((0, encoder.dim), dtype=np.float32)
        if todo:
            vecs = encode_queries(encoder, todo) if queries_ else encoder.encode(todo)
        made.setdefault(model, {}).update(kept)
        made[model].update((text_hash(t), v) for t, v in zip(todo, vecs, strict=True))
    ShippedVectors.write(out, made)
    click.echo(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {sum(map(len, made.values()))} vectors)", err=True)
