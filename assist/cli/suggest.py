"""`assist suggest` and `assist eval retrieval`: ranked replies from the phrase bank for a message."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import click
import yaml

from assist.bank.store import PhraseStore
from assist.cli import echo_json, eval_group, fail, main, read_conversation
from assist.config import get_settings


def _quiet() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("assist").setLevel(logging.INFO)


@main.command()
@click.argument("text", required=False)
@click.option(
    "--conversation",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JSONL file of turns; suggestions are for its latest customer message",
)
@click.option("--k", type=click.IntRange(1, 50), default=None, help="how many suggestions (default 5)")
@click.option("--team", default=None, help="the agent's team, for team-scoped phrases")
@click.option(
    "--set", "slots", multiple=True, metavar="SLOT=VALUE", help="fill a placeholder, e.g. customer_name=王先生"
)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def suggest(
    text: str | None, conversation: Path | None, k: int | None, team: str | None, slots: tuple[str, ...], as_json: bool
) -> None:
    """Suggest replies for a customer message (TEXT) or the latest message of a conversation."""
    if (text is None) == (conversation is None):
        fail("give either TEXT or --conversation FILE", 2)
    context = dict(s.split("=", 1) for s in slots if "=" in s)
    _quiet()
    from assist.analysis.analyzer import Analyzer
    from assist.services import build_suggester

    settings = get_settings()
    store = PhraseStore.connect(settings.sqlalchemy_url)
    if settings.seed_phrasebank:
        store.seed(settings.phrasebank_dir)
    suggester = build_suggester(settings, store, Analyzer.load())
    turns = read_conversation(conversation) if conversation else None
    result = suggester.suggest(text=text, conversation=turns, k=k, team=team, context=context)
    if as_json:
        echo_json(result.model_dump(mode="json"))
        return
    situations = ", ".join(f"{s.situation} {s.score:.2f}" for s in result.situations) or "none"
    emotion = result.analysis.emotion
    click.echo(f"[{result.lang}] emotion: {emotion.label} {emotion.intensity:.2f}; situations: {situations}")
    for n, item in enumerate(result.items, 1):
        click.echo(f"{n}. {item.text}\n   {item.score:.3f} {item.key} — {item.why}")


@eval_group.command("retrieval")
@click.option(
    "--set",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="labelled messages (default: eval/retrieval.yml; blind: eval/retrieval_holdout.yml, "
    "eval/retrieval_blind.yml, eval/retrieval_blind2.yml)",
)
@click.option("--misses", is_flag=True, help="also list the messages the full pipeline misses at 3")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def eval_retrieval(path: Path | None, misses: bool, as_json: bool) -> None:
    """hit@1, hit@3 and MRR per language and channel (dense, lexical, fused, fused + rerank)."""
    _quiet()
    from assist.analysis.analyzer import Analyzer
    from assist.bank.db import Database
    from assist.bank.vectors import VectorCache
    from assist.retrieval.evaluate import DEFAULT_SET, evaluate, load_set, render
    from assist.retrieval.searcher import HybridSearcher
    from assist.services import settings_embedder, settings_lang_encoders
    from assist.suggest import Suggester

    settings = get_settings()
    try:
        items = load_set(path or DEFAULT_SET)
    except (ValueError, yaml.YAMLError) as exc:  # pydantic's ValidationError is a ValueError
        raise click.BadParameter(str(exc), param_hint="--set") from exc
    # The shipped bank alone, in a scratch store; vectors are cached in the configured store across runs.
    cache = VectorCache(Database.connect(settings.sqlalchemy_url))
    with tempfile.TemporaryDirectory() as tmp:
        bank = PhraseStore.connect(f"sqlite:///{Path(tmp) / 'eval.db'}")
        bank.seed(settings.phrasebank_dir)
        searcher = HybridSearcher(
            settings_embedder(settings.retrieval),
            settings.retrieval,
            lang_encoders=dict(settings_lang_encoders(settings.retrieval)),
        )
        searcher.upsert(bank.records(statuses=["approved"]), cache=cache)
        analyzer = Analyzer.load()
        analyzer.use_routes(searcher.routes)  # as in service: the learned models read the message
        report = evaluate(Suggester(analyzer, searcher, settings.retrieval.top_k), items)
        bank.close()
    if as_json:
        echo_json(report)
        return
    click.echo(render(report))
    if misses:
        for m in report["misses"]:
            click.echo(json.dumps(m, ensure_ascii=False))


@eval_group.command("learning")
@click.option(
    "--set",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="labelled messages (default: eval/customer_messages/dev.yml; eval/retrieval*.yml work too)",
)
@click.option("--runs", type=click.IntRange(1, 50), default=5, help="time orders (seeded shuffles) to average")
@click.option("--split", type=click.FloatRange(0.1, 0.9), default=0.5, help="share of the set replayed first")
@click.option("--no-dismiss", is_flag=True, help="the simulated agent only uses, never dismisses")
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="folder to keep the messages' vectors in between runs",
)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def eval_learning(
    path: Path | None, runs: int, split: float, no_dismiss: bool, cache: Path | None, as_json: bool
) -> None:
    """Replay: agents' choices on the first part of a set (in time) and top-1 on the rest, without and with them."""
    _quiet()
    from assist.analysis.analyzer import Analyzer
    from assist.bank.db import Database
    from assist.bank.feedback import query_model
    from assist.bank.vectors import VectorCache
    from assist.retrieval.embedder import encode_queries
    from assist.retrieval.replay import Replay, encode_cached, load_any, render, summary
    from assist.retrieval.searcher import HybridSearcher
    from assist.services import settings_embedder
    from assist.suggest import Suggester

    settings = get_settings()
    default = Path(__file__).resolve().parents[2] / "eval" / "customer_messages" / "dev.yml"
    try:
        items = load_any(path or default)
    except (ValueError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise click.BadParameter(str(exc), param_hint="--set") from exc
    cache_db = VectorCache(Database.connect(settings.sqlalchemy_url))
    analyzer = Analyzer.load()
    with tempfile.TemporaryDirectory() as tmp:
        bank = PhraseStore.connect(f"sqlite:///{Path(tmp) / 'eval.db'}")
        bank.seed(settings.phrasebank_dir)
        encoder = settings_embedder(settings.retrieval)
        searcher = HybridSearcher(encoder, settings.retrieval)
        searcher.upsert(bank.records(statuses=["approved"]), cache=cache_db)
        vectors = encode_cached(encoder, [i.text for i in items], cache, encode_queries)
        analyses = [analyzer.message_analysis(i.text) for i in items]
        replay = Replay(
            Suggester(analyzer, searcher, settings.retrieval.top_k),
            bank.db,
            items,
            vectors,
            analyses,
            query_model(encoder),
        )
        results = [replay.run(settings.feedback, seed=s, split=split, dismiss=not no_dismiss) for s in range(runs)]
        bank.close()
    report = summary(results)
    if as_json:
        echo_json({"summary": report, "runs": results})
        return
    click.echo(render(report))
