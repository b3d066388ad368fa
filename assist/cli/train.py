"""`assist train emotion`: fit the learned emotion and situation models for an encoder (train time only)."""

from __future__ import annotations

import json
import logging
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from assist.cli import fail, main

DEFAULT_CACHE = Path.home() / ".cache" / "agent-assist" / "emotion"


@main.group("train")
def train_group() -> None:
    """Train a learned model (needs the `train` extra: pip install -e '.[train]')."""


def make_encoder(name: str) -> Any:
    """The encoder a model name gives (assist.retrieval.embedder.shared_embedder), loaded."""
    from assist.retrieval.embedder import shared_embedder

    return shared_embedder(name, load=True)


def default_encoder() -> str:
    from assist.config import get_settings

    return get_settings().retrieval.model_name


@train_group.command("emotion")
@click.option("--encoder", "encoder_name", default=None, help="encoder model name (default: the configured one)")
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_CACHE,
    show_default=True,
    help="where encoded vectors are kept between runs",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="model file (default: the packaged assist/analysis/data/learned.npz; its card beside it)",
)
@click.option("--customer-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--shared-data", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option(
    "--goemotions-per-label",
    type=int,
    default=0,
    show_default=True,
    help="GoEmotions train examples per mapped label (0: none; on dev it lowered the customer figures)",
)
@click.option(
    "--cped-per-label", type=int, default=0, show_default=True, help="CPED examples per mapped label (0: none)"
)
@click.option("--goemotions-dev/--no-goemotions-dev", default=True, show_default=True, help="score GoEmotions dev")
@click.option(
    "--augment/--no-augment",
    default=True,
    show_default=True,
    help="also train on the Chinese in-domain examples written in the other script (OpenCC)",
)
@click.option(
    "--extras/--no-extras",
    default=True,
    show_default=True,
    help="also train on eval/analysis_messages.yml (emotion) and the situation cue files' examples",
)
@click.option(
    "--choose-on",
    type=click.Choice(["dev", "dev+blind"]),
    default="dev+blind",
    show_default=True,
    help="the corpus splits the settings are chosen on (blind.yml was scored once on 2026-12-02 and is "
    "development data since)",
)
@click.option(
    "--lexical/--no-lexical",
    default=True,
    show_default=True,
    help="also fit the character n-gram heads and choose the weight they are mixed in at",
)
@click.option(
    "--langs",
    default=None,
    help="train and choose on these languages' messages only, comma-separated (e.g. `en` for an encoder that "
    "reads English alone: --encoder bundled:all-MiniLM-L6-v2 --langs en --out "
    "assist/analysis/data/learned_minilm.npz); default: every language",
)
def train_emotion(
    encoder_name: str | None,
    cache: Path,
    out: Path | None,
    customer_dir: Path | None,
    shared_data: Path | None,
    goemotions_per_label: int,
    cped_per_label: int,
    goemotions_dev: bool,
    augment: bool,
    extras: bool,
    choose_on: str,
    lexical: bool,
    langs: str | None,
) -> None:
    """Fit the emotion and situation heads on the customer corpus' train split (+ GoEmotions train and CPED,
    subsampled per label), choose settings on its dev split, write the model file and MODEL_CARD.md."""
    from assist.analysis import corpora, learned, training

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    name = encoder_name or default_encoder()
    try:
        encoder = make_encoder(name)
    except (ImportError, ValueError, OSError) as exc:
        fail(f"encoder {name!r}: {exc}", 2)
    customer_dir = customer_dir or corpora.CUSTOMER_DIR
    out = out or learned.MODEL_FILE
    vc = corpora.VectorCache(cache, name)
    rules = training.rules_analyzer()
    ctrain = corpora.load_customer("train", customer_dir)
    if extras:
        sit = corpora.load_situation_examples()
        ctrain += corpora.load_analysis_messages() + sit + (corpora.augment_scripts(sit) if augment else [])
    if augment:
        ctrain += corpora.augment_scripts([e for e in ctrain if e.source == "customer"])
    cdev = corpora.load_customer("dev", customer_dir)
    cblind = corpora.load_customer("blind", customer_dir) if choose_on == "dev+blind" else []
    ext: list[corpora.Example] = []
    if goemotions_per_label:
        ext += corpora.subsample(
            corpora.load_goemotions("train", shared_data and shared_data / "goemotions"), goemotions_per_label
        )
    if cped_per_label:
        ext += corpora.subsample(corpora.load_cped(shared_data and shared_data / "cped"), cped_per_label)
    if langs:  # an encoder for some languages only (retrieval.lang_models): their messages alone
        keep = {lang.strip() for lang in langs.split(",") if lang.strip()}
        ctrain, cdev, cblind, ext = ([e for e in part if e.lang in keep] for part in (ctrain, cdev, cblind, ext))
        if not ctrain or not cdev:
            fail(f"no training or dev messages in {', '.join(sorted(keep))}", 2)
    enc_train = training.encode(ctrain, rules, vc, encoder, situations=True)
    enc_dev = training.encode(cdev, rules, vc, encoder, situations=True)
    enc_blind = training.encode(cblind, rules, vc, encoder, situations=True) if cblind else None
    enc_choose = training.concat([enc_dev, enc_blind]) if enc_blind is not None else enc_dev
    enc_ext = training.encode(ext, rules, vc, encoder, situations=False) if ext else None
    models, report = training.train(
        enc_train, enc_choose, enc_ext, name, int(encoder.dim), log=click.echo, lexical=lexical
    )
    report.choice["chosen_on"] = choose_on
    dev = training.evaluate_encoded(models, enc_dev)
    blind = training.evaluate_encoded(models, enc_blind) if enc_blind is not None else None
    ge = None
    if goemotions_dev:
        gdev = [e for e in corpora.load_goemotions("dev", shared_data and shared_data / "goemotions") if e.emotion]
        ge = training.evaluate_goemotions(models, training.encode(gdev, rules, vc, encoder, situations=False))
    command = "assist train emotion " + " ".join(shlex.quote(a) for a in sys.argv[3:])
    models.meta.update(
        trained=training.today(),
        command=command,
        choice=report.choice,
        counts=report.counts,
        dev={k: _brief(v) for k, v in dev.items()},
        blind_as_development={k: _brief(v) for k, v in blind.items()} if blind else None,
        goemotions_dev=_brief_emotion(ge) if ge else None,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    models.save(out)
    # The packaged file's card is MODEL_CARD.md; another file's is named after it (learned_minilm.npz:
    # MODEL_CARD_minilm.md), so two files in one folder keep their own cards.
    stem = out.stem.removeprefix("learned").lstrip("_")
    card = out.parent / (f"MODEL_CARD_{stem}.md" if stem else "MODEL_CARD.md")
    text = training.model_card(models, report, dev, ge, blind)
    card.write_text(text.replace("(`learned.npz`)", f"(`{out.name}`)", 1), encoding="utf-8")  # its own file
    (cache / "last_grid.json").write_text(json.dumps(report.grid, indent=1), encoding="utf-8")
    click.echo(f"wrote {out} ({out.stat().st_size} bytes) and {card}")
    for lang, v in dev.items():
        e = v["emotion"]
        click.echo(
            f"dev {lang:<8} emotion macro-F1 rules {e['rules']['macro_f1']:.3f} model {e['model']['macro_f1']:.3f}"
            f" combined {e['combined']['macro_f1']:.3f}"
        )
    if ge:
        click.echo(
            f"GoEmotions dev (mapped) macro-F1: rules {ge['rules']['macro_f1']:.3f} model {ge['model']['macro_f1']:.3f}"
            f" combined {ge['combined']['macro_f1']:.3f}"
        )


def _brief_emotion(v: dict[str, Any]) -> dict[str, Any]:
    return {
        k: {"macro_f1": x["macro_f1"], "neutral_rate_on_emotional": x["neutral_rate_on_emotional"]}
        for k, x in v.items()
    }


def _brief(v: dict[str, Any]) -> dict[str, Any]:
    out = {"emotion": _brief_emotion(v["emotion"])}
    if v.get("situation"):
        out["situation"] = {
            k: {"top1_main": x["top1_main"], "top1_any": x["top1_any"]} for k, x in v["situation"].items()
        }
    return out


@train_group.command("flagger")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="model file (default: the packaged assist/rewrite/data/flagger.npz; its card FLAGGER.md beside it)",
)
@click.option(
    "--with-blind2",
    is_flag=True,
    help="also train on eval/rewrite_blind2.yml (by default it is held out to measure the flagger)",
)
@click.option(
    "--with-blind3",
    is_flag=True,
    help="also train on eval/rewrite_blind3.yml (development data since round 5; by default held out)",
)
@click.option(
    "--clean-flag-rate",
    type=float,
    default=None,
    help="share of the clean drafts' clauses (out of fold) the threshold may flag (default: training.CLEAN_FLAG_RATE)",
)
def train_flagger(out: Path | None, with_blind2: bool, with_blind3: bool, clean_flag_rate: float | None) -> None:
    """Fit the rewriter's learned flagger on the rewrite sets' clauses and write it with its card."""
    try:
        from assist.rewrite import training
    except ImportError as exc:  # pragma: no cover - scikit-learn missing
        fail(f"needs scikit-learn (pip install -e '.[train]'): {exc}", 2)
    target = out or Path(training.__file__).with_name("data") / "flagger.npz"
    sets = (
        *training.TRAIN_SETS,
        *((training.HOLDOUT_SET,) if with_blind2 else ()),
        *((training.BLIND3_SET,) if with_blind3 else ()),
    )
    rate = training.CLEAN_FLAG_RATE if clean_flag_rate is None else clean_flag_rate
    report = training.train(target, sets, rate)
    from assist.rewrite import Rewriter
    from assist.rewrite.learned import Flagger

    figures = training.measure(
        Rewriter.load(flagger=Flagger.load(target)),
        Rewriter.load(learned=False),
        (*training.TRAIN_SETS, training.HOLDOUT_SET, training.BLIND3_SET),
    )
    training.write_card(report, figures, target.with_name("FLAGGER.md"))
    click.echo(json.dumps({"training": report, "figures": figures}, ensure_ascii=False, indent=1))
