"""`assist train emotion`: fit the learned emotion and situation models for an encoder (train time only)."""

from __future__ import annotations

import json
import logging
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from assist.cli import fail, main

if TYPE_CHECKING:
    from assist.analysis import corpora as corpora_t

DEFAULT_CACHE = Path.home() / ".cache" / "agent-assist" / "emotion"
# Corpus splits fitted on beside train.yml (round 4): other authors' train splits and the second and third blind
# splits, which were scored once and are development data since (eval/customer_messages/README.md).
ADD_TRAIN = ("train2", "blind2", "blind3", "train3")
# Other authors' splits held out in halves to choose the settings (`--choose-on dev+blind+authors`, round 4).
HELD_OUT = ("blind2", "blind3")


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


def encoding_parts(encoder_name: str | None, cache: Path) -> tuple[str, Any, Any, Any]:
    """(name, loaded encoder, its vector cache under `cache`, the rules analyzer): what both training commands
    encode the corpus with. Exits with code 2 when the encoder cannot be loaded."""
    from assist.analysis import corpora, training

    name = encoder_name or default_encoder()
    try:
        encoder = make_encoder(name)
    except (ImportError, ValueError, OSError) as exc:
        fail(f"encoder {name!r}: {exc}", 2)
    return name, encoder, corpora.VectorCache(cache, name), training.rules_analyzer()


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
    type=click.Choice(["dev", "dev+blind", "dev+blind+blind2", "dev+blind+authors"]),
    default="dev+blind+authors",
    show_default=True,
    help="the corpus splits the settings are chosen on (blind.yml, blind2.yml and blind3.yml were scored once on "
    "2026-12-02 and are development data since); +authors: each --held-out split (other authors') in two halves "
    "by id, each scored by the grid point fitted without it (the mean of the dev+blind score and that pooled "
    "one decides); +blind2: blind2's halves alone (round 3)",
)
@click.option(
    "--held-out",
    "held_out",
    multiple=True,
    default=HELD_OUT,
    show_default=True,
    help="with --choose-on dev+blind+authors: the other authors' splits held out in halves (a missing file is "
    "noted and skipped)",
)
@click.option(
    "--add-train",
    "add_train",
    multiple=True,
    default=ADD_TRAIN,
    show_default=True,
    help="further corpus splits fitted on beside train.yml (a missing file is noted and skipped); give "
    "--add-train none for train.yml alone",
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
    held_out: tuple[str, ...],
    add_train: tuple[str, ...],
    lexical: bool,
    langs: str | None,
) -> None:
    """Fit the emotion and situation heads on the customer corpus' train split and the --add-train splits
    (train2.yml, blind2.yml; + GoEmotions train and CPED, subsampled per label, when asked), choose settings on
    its dev and old blind splits, write the model file and MODEL_CARD.md."""
    import numpy as np

    from assist.analysis import corpora, learned, training

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    name, encoder, vc, rules = encoding_parts(encoder_name, cache)
    customer_dir = customer_dir or corpora.CUSTOMER_DIR
    out = out or learned.MODEL_FILE
    splits = ["train", *(s for s in add_train if s not in ("train", "dev", "blind", "none"))]
    missing = [s for s in splits if not (customer_dir / f"{s}.yml").is_file()]
    if "train" in missing:
        fail(f"{customer_dir / 'train.yml'} is missing", 2)
    for s in missing:
        click.echo(f"note: {s}.yml not found in {customer_dir}: not trained on")
    splits = [s for s in splits if s not in missing]
    ctrain = training_examples(customer_dir, splits, augment, extras)
    cdev = corpora.load_customer("dev", customer_dir)
    cblind = corpora.load_customer("blind", customer_dir) if choose_on.startswith("dev+blind") else []
    ext: list[corpora.Example] = []
    if goemotions_per_label:
        ext += corpora.subsample(
            corpora.load_goemotions("train", shared_data and shared_data / "goemotions"), goemotions_per_label
        )
    if cped_per_label:
        ext += corpora.subsample(corpora.load_cped(shared_data and shared_data / "cped"), cped_per_label)
    if langs:  # an encoder for some languages only (retrieval.lang_models): their messages alone
        only = {lang.strip() for lang in langs.split(",") if lang.strip()}
        ctrain, cdev, cblind, ext = ([e for e in part if e.lang in only] for part in (ctrain, cdev, cblind, ext))
        if not ctrain or not cdev:
            fail(f"no training or dev messages in {', '.join(sorted(only))}", 2)
    enc_train = training.encode(ctrain, rules, vc, encoder, situations=True)
    enc_dev = training.encode(cdev, rules, vc, encoder, situations=True)
    enc_blind = training.encode(cblind, rules, vc, encoder, situations=True) if cblind else None
    enc_choose = training.concat([enc_dev, enc_blind]) if enc_blind is not None else enc_dev
    enc_ext = training.encode(ext, rules, vc, encoder, situations=False) if ext else None
    folds: list[tuple[Any, training.Encoded]] = []
    held_splits = {"dev+blind+blind2": ["blind2"], "dev+blind+authors": list(held_out)}.get(choose_on, [])
    for s in [s for s in held_splits if not (customer_dir / f"{s}.yml").is_file()]:
        click.echo(f"note: {s}.yml not found in {customer_dir}: not held out")
        held_splits.remove(s)
    if choose_on in ("dev+blind+blind2", "dev+blind+authors") and not held_splits:
        click.echo("note: no other author's split held out: settings chosen on dev+blind")
        choose_on = "dev+blind"
    for s in held_splits:
        held_rows = corpora.load_customer(s, customer_dir)
        if langs:  # the same languages as the fit: another language's messages would score a model never meant for them
            held_rows = [e for e in held_rows if e.lang in only]
        held = training.encode(held_rows, rules, vc, encoder, situations=True)
        for half in training.author_halves(held.examples):
            # the half's rows (its script copies carry the same ids) are left out of the fit that scores it
            keep = np.array([e.id not in half for e in enc_train.examples])
            folds.append((keep, held.subset(np.array([e.id in half for e in held.examples]))))
    models, report = training.train(
        enc_train, enc_choose, enc_ext, name, int(encoder.dim), log=click.echo, lexical=lexical, folds=folds
    )
    report.choice["chosen_on"] = choose_on
    report.choice["held_out"] = held_splits
    report.choice["trained_on"] = splits
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


@train_group.command("cross-author")
@click.option("--encoder", "encoder_name", default=None, help="encoder model name (default: the configured one)")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_CACHE, show_default=True)
@click.option(
    "--model",
    "model_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="whose chosen settings are refitted (default: the packaged learned.npz)",
)
@click.option("--customer-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--held", default="blind2", show_default=True, help="the other author's split scored (in halves)")
@click.option(
    "--extra",
    multiple=True,
    default=("train2",),
    show_default=True,
    help="further training splits, each measured added to train.yml (a missing file is skipped)",
)
@click.option("--augment/--no-augment", default=True, show_default=True)
@click.option("--extras/--no-extras", default=True, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="print the figures as JSON")
def train_cross_author(
    encoder_name: str | None,
    cache: Path,
    model_file: Path | None,
    customer_dir: Path | None,
    held: str,
    extra: tuple[str, ...],
    augment: bool,
    extras: bool,
    as_json: bool,
) -> None:
    """Does another author's data help on another author's messages? Refit a model file's chosen settings on
    train.yml (+ each --extra split), with and without half of the --held split as training rows, and score
    the held split's halves (two folds, pooled): docs/analysis.md § Round 3. Writes no model."""
    from assist.analysis import corpora, learned, training

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    models = learned.LearnedModels.load(model_file or learned.MODEL_FILE)
    choice = models.meta.get("choice")
    if not choice:
        fail("the model file records no chosen settings", 2)
    name, encoder, vc, rules = encoding_parts(encoder_name, cache)
    customer_dir = customer_dir or corpora.CUSTOMER_DIR

    def enc(examples: list[corpora.Example]) -> training.Encoded:
        return training.encode(examples, rules, vc, encoder, situations=True)

    base = enc(training_examples(customer_dir, ["train"], augment, extras))
    held_ex = corpora.load_customer(held, customer_dir)
    held_script = corpora.augment_scripts(held_ex) if augment else []
    added: dict[str, training.Encoded] = {}
    for s in extra:
        if (customer_dir / f"{s}.yml").is_file():
            written = corpora.load_customer(s, customer_dir)
            added[s] = enc(written + (corpora.augment_scripts(written) if augment else []))
        else:
            click.echo(f"note: {s}.yml not found: skipped")
    result = training.cross_author(
        base, enc(held_ex), enc(held_script) if held_script else None, added, choice, name, int(encoder.dim)
    )
    if as_json:
        click.echo(json.dumps(result, indent=1))
        return
    click.echo(f"scored on {held}.yml, each half predicted by a model that did not see it (settings of the file)")
    click.echo(f"{'training rows':<34}{'lang':<9}{'emo F1':>8}{'neutral%':>9}{'sit top1':>9}")
    for variant, per in result.items():
        for lang, v in per.items():
            click.echo(
                f"{variant:<34}{lang:<9}{v['macro_f1']:>8.3f}{100 * v['neutral_rate_on_emotional']:>8.1f}%"
                f"{v['situation_top1']:>9.3f}"
            )


def training_examples(
    customer_dir: Path, splits: Sequence[str], augment: bool, extras: bool
) -> list[corpora_t.Example]:
    """The in-domain training examples: the corpus splits `splits`, eval/analysis_messages.yml and the situation
    cue files' examples (`extras`), and the Chinese ones written in the other script (`augment`)."""
    from assist.analysis import corpora

    written = [e for s in splits for e in corpora.load_customer(s, customer_dir)]
    out = list(written)
    if extras:
        sit = corpora.load_situation_examples()
        out += corpora.load_analysis_messages() + sit + (corpora.augment_scripts(sit) if augment else [])
    if augment:
        out += corpora.augment_scripts(written)
    return out


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
