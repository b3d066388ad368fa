"""`assist train emotion`: fit the learned emotion and situation heads (assist/analysis/learned.py), choose
their settings and the rule fusion on the dev split, write the model file and its card. Train time only:
needs scikit-learn (`pip install -e '.[train]'`); serving reads the file with numpy.

Also the scoring of `assist eval analysis --customer <split>`: rules only, model only and combined, per
language, on the project's customer-message corpus, and the mapped GoEmotions dev split.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from assist.analysis import corpora
from assist.analysis.analyzer import Analyzer
from assist.analysis.learned import HEADS, LearnedModels, Linear, cue_features, rule_features
from assist.analysis.loader import load_data
from assist.vocab import EMOTIONS, LANGS, SITUATIONS

logger = logging.getLogger(__name__)

# Grids searched on dev (MODEL_CARD.md reports the choice).
C_GRID = (0.005, 0.01, 0.03)
CUSTOMER_WEIGHT_GRID = (2.0, 5.0, 10.0)
RULE_WEIGHT_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
RULE_SCALE = 2.0  # rule features are on [0, 1]; the vector's entries are about ±0.1
SECONDARY_WEIGHT = 0.3  # a message's further situations, as extra training rows
STANDARDISE = True  # fit on z-scored features (chosen on dev; folded back into the weights)
SITUATION_C_GRID = (0.01, 0.05, 0.2, 1.0)
CUE_WEIGHT_GRID = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


@dataclass(slots=True)
class Encoded:
    examples: list[corpora.Example]
    X: np.ndarray  # vectors
    R: np.ndarray  # rule features
    rules_label: list[str]  # what the rules alone say
    cue_scores: list[dict[str, float]] = field(default_factory=list)  # situation cue noisy-or per message

    def subset(self, mask: np.ndarray) -> Encoded:
        idx = np.flatnonzero(mask)
        return Encoded(
            [self.examples[i] for i in idx],
            self.X[idx],
            self.R[idx],
            [self.rules_label[i] for i in idx],
            [self.cue_scores[i] for i in idx] if self.cue_scores else [],
        )


def read_rules(rules: Analyzer, examples: Sequence[corpora.Example], situations: bool) -> Encoded:
    """The rules' reading of each example (a rules-only analyzer), as features and labels."""
    R, labels, cues = [], [], []
    for e in examples:
        conv = rules.conversation()  # as `analyze_message` reads it: the language is detected, not given
        a = conv.add("customer", e.text, 0.0)
        emo = a.emotion
        assert emo is not None
        R.append(rule_features(emo.scores, {c.kind for c in emo.cues}))
        labels.append(emo.label)
        if situations:
            cues.append({d["situation"]: d["score"] for d in rules.situations(e.text, a.lang)})
    return Encoded(list(examples), np.zeros((len(examples), 0), np.float32), np.stack(R), labels, cues)


def encode(
    examples: Sequence[corpora.Example], rules: Analyzer, cache: corpora.VectorCache, encoder: Any, situations: bool
) -> Encoded:
    from assist.retrieval.embedder import encode_queries

    t0 = time.monotonic()

    def progress(done: int, total: int) -> None:
        logger.info("encoding: %d/%d new texts (%.0f s)", done, total, time.monotonic() - t0)

    X = cache.vectors([e.text for e in examples], lambda ts: encode_queries(encoder, ts), progress=progress)
    enc = read_rules(rules, examples, situations)
    enc.X = X.astype(np.float32)
    return enc


def macro_f1(want: Sequence[str], got: Sequence[str], labels: Sequence[str]) -> float:
    return float(np.mean([prf(want, got, label)["f1"] for label in labels if label in want or label in got]))


def prf(want: Sequence[str], got: Sequence[str], label: str) -> dict[str, float]:
    tp = sum(1 for w, g in zip(want, got, strict=True) if w == label and g == label)
    fp = sum(1 for w, g in zip(want, got, strict=True) if w != label and g == label)
    fn = sum(1 for w, g in zip(want, got, strict=True) if w == label and g != label)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3), "support": tp + fn}


def fit_linear(
    X: np.ndarray, y: Sequence[str], labels: Sequence[str], C: float, weight: np.ndarray | None, rules: bool
) -> Linear:
    """A multinomial logistic regression on standardised features, folded back into W and b of the raw ones."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # pragma: no cover - the train extra
        raise ImportError("training needs scikit-learn: pip install -e '.[train]'") from exc
    mean = X.mean(axis=0) if STANDARDISE else np.zeros(X.shape[1], np.float32)
    std = X.std(axis=0) + 1e-6 if STANDARDISE else np.ones(X.shape[1], np.float32)
    clf = LogisticRegression(C=C, max_iter=3000)
    clf.fit((X - mean) / std, list(y), sample_weight=weight)
    classes = list(clf.classes_)
    coef, intercept = clf.coef_, clf.intercept_
    if len(classes) == 2:  # sklearn keeps one row for two classes: softmax of (-z/2, z/2) is the same
        coef = np.stack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    W = np.zeros((len(labels), X.shape[1]), np.float32)
    b = np.full(len(labels), -30.0, np.float32)  # a label with no training example is never chosen
    for row, label in enumerate(classes):
        i = list(labels).index(label)
        W[i] = coef[row] / std
        b[i] = intercept[row] - float(coef[row] @ (mean / std))
    return Linear(tuple(labels), W, b, rules, RULE_SCALE if rules else 1.0)


def _features(enc: Encoded, rules: bool) -> np.ndarray:
    return np.concatenate([enc.X, enc.R * RULE_SCALE], axis=1) if rules else enc.X


def emotion_predict(head: Linear, enc: Encoded, rule_weight: float) -> list[str]:
    p = head.proba(enc.X, enc.R if head.rules else None)
    if rule_weight:
        p = (1 - rule_weight) * p + rule_weight * enc.R[:, : len(EMOTIONS)]
    return [head.labels[i] for i in p.argmax(axis=1)]


def _cue_matrix(enc: Encoded) -> np.ndarray:
    return np.stack([cue_features(c) for c in enc.cue_scores]) if enc.cue_scores else np.zeros((0, len(SITUATIONS)))


def situation_predict(head: Linear, enc: Encoded, cue_weight: float) -> list[str]:
    p = head.proba(enc.X, _cue_matrix(enc) if head.rules else None)
    out = []
    for row, cue in zip(p, enc.cue_scores, strict=True):
        scores = {s: (1 - cue_weight) * float(row[i]) + cue_weight * cue.get(s, 0.0) for i, s in enumerate(head.labels)}
        out.append(max(scores, key=lambda s: scores[s]))
    return out


def per_lang_macro(enc: Encoded, got: Sequence[str]) -> float:
    """The mean over languages of emotion macro-F1 (the target is per language)."""
    vals = []
    for lang in LANGS:
        idx = [i for i, e in enumerate(enc.examples) if e.lang == lang]
        if idx:
            want = [enc.examples[i].emotion or "" for i in idx]
            vals.append(macro_f1(want, [got[i] for i in idx], EMOTIONS))
    return float(np.mean(vals)) if vals else 0.0


@dataclass(slots=True)
class TrainReport:
    choice: dict[str, Any]
    grid: list[dict[str, Any]]
    counts: dict[str, Any]


def _concat(parts: Sequence[Encoded]) -> Encoded:
    parts = [p for p in parts if p.examples]
    return Encoded(
        [e for p in parts for e in p.examples],
        np.concatenate([p.X for p in parts]),
        np.concatenate([p.R for p in parts]),
        [x for p in parts for x in p.rules_label],
        [x for p in parts for x in (p.cue_scores or [{}] * len(p.examples))],
    )


def train(
    customer_train: Encoded,
    customer_dev: Encoded,
    external: Encoded | None,
    encoder_name: str,
    dim: int,
    c_grid: Sequence[float] = C_GRID,
    weight_grid: Sequence[float] = CUSTOMER_WEIGHT_GRID,
    log: Callable[[str], Any] = logger.info,
) -> tuple[LearnedModels, TrainReport]:
    """Fit every grid point on train, pick by dev (mean per-language macro-F1): the shipped heads are the ones
    scored on dev (no refit on train + dev). `customer_train` holds the in-domain examples (the corpus' train
    split and what is added to it); an example without an emotion trains the situation head only, one
    without situations the emotion head only."""
    has_external = external is not None and len(external.examples) > 0
    parts = [customer_train, external] if has_external and external is not None else [customer_train]
    both = _concat(parts)
    n_in = len(customer_train.examples)
    emo_rows = np.array([e.emotion is not None for e in both.examples])
    y = [e.emotion or "" for e, keep in zip(both.examples, emo_rows, strict=True) if keep]
    if not has_external:
        weight_grid = (1.0,)
    grid: list[dict[str, Any]] = []
    best: tuple[float, Any] | None = None
    heads_by_key: dict[tuple[float, float, bool], Linear] = {}
    for rules in (False, True):
        X = _features(both, rules)[emo_rows]
        for C in c_grid:
            for wc in weight_grid:
                w = np.where(np.arange(len(both.examples)) < n_in, wc, 1.0)[emo_rows]
                head = fit_linear(X, y, EMOTIONS, C, w, rules)
                heads_by_key[(C, wc, rules)] = head
                scores = []
                for rw in RULE_WEIGHT_GRID:
                    got = emotion_predict(head, customer_dev, rw)
                    score = per_lang_macro(customer_dev, got)
                    scores.append(score)
                    row = {"rules_as_features": rules, "C": C, "customer_weight": wc, "rule_weight": rw}
                    grid.append({**row, "dev": round(score, 4)})
                    if best is None or score > best[0] + 1e-9:
                        best = (score, {**row, "dev": round(score, 4)})
                log(f"emotion C={C} customer_weight={wc} rules_as_features={rules}: dev {max(scores):.3f}")
    assert best is not None
    choice = best[1]
    emotion = heads_by_key[(choice["C"], choice["customer_weight"], choice["rules_as_features"])]
    # The vector-only head of the same C and weight: the evaluation's "model only".
    vector_only = heads_by_key[(choice["C"], choice["customer_weight"], False)]
    # Situations: in-domain examples only (no public set has them); the main (first) situation, and each
    # further labelled situation as an extra row of weight SECONDARY_WEIGHT.
    rows, ys, ws = [], [], []
    for i, e in enumerate(customer_train.examples):
        for j, sit in enumerate(e.situations):
            if j == 0 or SECONDARY_WEIGHT > 0:
                rows.append(i)
                ys.append(sit)
                ws.append(1.0 if j == 0 else SECONDARY_WEIGHT)
    cues_train = _cue_matrix(customer_train)
    want_s = [e.situations[0] for e in customer_dev.examples]
    sbest: tuple[float, Any] | None = None
    sheads = {}
    for with_cues in (False, True):
        Xs = np.concatenate([customer_train.X, cues_train], axis=1) if with_cues else customer_train.X
        for C in SITUATION_C_GRID:
            sheads[(C, with_cues)] = head = fit_linear(Xs[rows], ys, SITUATIONS, C, np.array(ws), with_cues)
            head.rule_scale = 1.0
            for cw in CUE_WEIGHT_GRID:
                got = situation_predict(head, customer_dev, cw)
                acc = float(np.mean([g == w for g, w in zip(got, want_s, strict=True)]))
                grid.append(
                    {"situation_C": C, "cues_as_features": with_cues, "cue_weight": cw, "dev_top1": round(acc, 4)}
                )
                if sbest is None or acc > sbest[0] + 1e-9:
                    sbest = (acc, (C, with_cues, cw))
    assert sbest is not None
    sC, s_cues, cw = sbest[1]
    log(f"chosen: emotion {choice}; situation C={sC} cues_as_features={s_cues} cue_weight={cw} (dev {sbest[0]:.3f})")
    models = LearnedModels(
        encoder_name,
        dim,
        {"emotion": emotion, "emotion_vector": vector_only, "situation": sheads[(sC, s_cues)]},
        rule_weight=float(choice["rule_weight"]),
        cue_weight=float(cw),
    )
    assert set(models.heads) == set(HEADS)
    counts = {
        "in_domain": dict(Counter(f"{e.source}:{e.emotion or e.situations[0]}" for e in customer_train.examples)),
        "external": dict(Counter(f"{e.source}:{e.emotion}" for e in external.examples)) if external else {},
    }
    return models, TrainReport(
        {
            **choice,
            "situation_C": sC,
            "situation_cues_as_features": s_cues,
            "cue_weight": cw,
            "situation_dev_top1": round(sbest[0], 4),
        },
        grid,
        counts,
    )


# --- evaluation -----------------------------------------------------------------------------------------------


def score_emotions(want: Sequence[str], got: Sequence[str]) -> dict[str, Any]:
    emotional = [i for i, w in enumerate(want) if w != "neutral"]
    return {
        "macro_f1": round(macro_f1(want, got, EMOTIONS), 3),
        "accuracy": round(float(np.mean([w == g for w, g in zip(want, got, strict=True)])), 3) if want else 0.0,
        "neutral_rate_on_emotional": round(sum(got[i] == "neutral" for i in emotional) / len(emotional), 3)
        if emotional
        else 0.0,
        "per_label": {label: prf(want, got, label) for label in EMOTIONS},
        "count": len(want),
    }


def score_situations(examples: Sequence[corpora.Example], got: Sequence[str | None]) -> dict[str, Any]:
    want = [e.situations[0] for e in examples]
    return {
        "top1_main": round(float(np.mean([g == w for g, w in zip(got, want, strict=True)])), 3) if want else 0.0,
        "top1_any": round(float(np.mean([g in e.situations for g, e in zip(got, examples, strict=True)])), 3)
        if want
        else 0.0,
        "per_label": {s: prf(want, [g or "" for g in got], s) for s in SITUATIONS},
        "count": len(want),
    }


def evaluate_encoded(models: LearnedModels, enc: Encoded) -> dict[str, Any]:
    """Per language and overall: rules only, model only (the vector head), combined (what the analyzer
    answers), for emotion and the main situation."""
    combined = emotion_predict(models.emotion, enc, models.rule_weight)
    model_only = emotion_predict(models.heads["emotion_vector"], enc, 0.0)
    rules_only = enc.rules_label
    s_rules = [max(c, key=lambda s: c[s]) if c else None for c in enc.cue_scores]
    s_rules = [
        s if s is not None and enc.cue_scores[i][s] >= 0.3 else None for i, s in enumerate(s_rules)
    ]  # MIN_SCORE of the cue patterns
    s_model = situation_predict(models.situation, enc, 0.0)
    s_comb = situation_predict(models.situation, enc, models.cue_weight)
    out: dict[str, Any] = {}
    groups = {lang: [i for i, e in enumerate(enc.examples) if e.lang == lang] for lang in LANGS}
    groups["all"] = list(range(len(enc.examples)))
    for name, idx in groups.items():
        if not idx:
            continue
        want = [enc.examples[i].emotion or "neutral" for i in idx]
        exs = [enc.examples[i] for i in idx]
        out[name] = {
            "emotion": {
                "rules": score_emotions(want, [rules_only[i] for i in idx]),
                "model": score_emotions(want, [model_only[i] for i in idx]),
                "combined": score_emotions(want, [combined[i] for i in idx]),
            },
            "situation": {
                "rules": score_situations(exs, [s_rules[i] for i in idx]),
                "model": score_situations(exs, [s_model[i] for i in idx]),
                "combined": score_situations(exs, [s_comb[i] for i in idx]),
            }
            if enc.examples[idx[0]].situations
            else None,
        }
    return out


def evaluate_goemotions(models: LearnedModels, enc: Encoded) -> dict[str, Any]:
    want = [e.emotion or "neutral" for e in enc.examples]
    return {
        "rules": score_emotions(want, enc.rules_label),
        "model": score_emotions(want, emotion_predict(models.heads["emotion_vector"], enc, 0.0)),
        "combined": score_emotions(want, emotion_predict(models.emotion, enc, models.rule_weight)),
    }


def evaluate_customer(
    split: str,
    encoder: Any,
    cache: Path,
    models: LearnedModels,
    customer_dir: Path | None = None,
    goemotions: bool = False,
    shared_data: Path | None = None,
) -> dict[str, Any]:
    """`assist eval analysis --customer SPLIT`: the three readings per language (and GoEmotions dev, mapped)."""
    rules = rules_analyzer()
    vc = corpora.VectorCache(cache, encoder.name)
    examples = corpora.load_customer(split, customer_dir or corpora.CUSTOMER_DIR)
    out: dict[str, Any] = {
        "split": split,
        "encoder": encoder.name,
        "customer": evaluate_encoded(models, encode(examples, rules, vc, encoder, True)),
    }
    if goemotions:
        gdev = [e for e in corpora.load_goemotions("dev", shared_data and shared_data / "goemotions") if e.emotion]
        out["goemotions_dev"] = evaluate_goemotions(models, encode(gdev, rules, vc, encoder, False))
    return out


def rules_analyzer() -> Analyzer:
    return Analyzer(load_data(), None, None)


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _table(rows: dict[str, dict[str, Any]], keys: Sequence[str]) -> list[str]:
    lines = ["| | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
    for name, row in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{row[k]:.3f}" for k in keys) + " |")
    return lines


def model_card(
    models: LearnedModels, report: TrainReport, dev: dict[str, Any], goemotions: dict[str, Any] | None
) -> str:
    """MODEL_CARD.md: data, label mapping, encoder, choice and figures, the command that rebuilt it."""
    m = corpora.mapping()
    emotion_rules = (
        " plus the rules' reading (7 normalised rule scores, 9 cue indicators)" if models.emotion.rules else ""
    )
    situation_cues = " plus the 14 cue-pattern scores" if models.situation.rules else ""
    if report.counts["external"]:
        external_line = (
            "- GoEmotions train (Google Research, Apache-2.0; English Reddit comments) and/or CPED validation (SCUT, "
            "Apache-2.0; Chinese TV-drama dialogue), read from `../shared/data/`, mapped as below and **subsampled**: "
            "at most N examples per mapped label (fixed seed), to keep encoding time bounded "
            "(`--goemotions-per-label`, `--cped-per-label`)."
        )
    else:
        external_line = (
            "- GoEmotions (Google Research, Apache-2.0) and CPED (SCUT, Apache-2.0): **not used for this file**. "
            "Measured on dev (docs/analysis.md § Learned models), adding them (900 / 700 per mapped label) lowered "
            "the customer figures at every weight tried; the mapping below is what `--goemotions-per-label` / "
            "`--cped-per-label` use, and GoEmotions dev is still scored with it."
        )
    lines = [
        "# Learned emotion and situation models (`learned.npz`)",
        "",
        "Written by `assist train emotion` (assist/analysis/training.py); do not edit by hand, rerun the command.",
        "",
        f"- Trained: {models.meta.get('trained')}",
        f"- Command: `{models.meta.get('command')}`",
        f"- Encoder: `{models.encoder}` ({models.dim} dimensions), query embedding (`query: ` prefix for e5). With "
        "another encoder configured the analyzer runs its rules only and says so (`model.active` false in every "
        "analysis, a warning at start).",
        "- Heads: multinomial logistic regression (scikit-learn `LogisticRegression`, lbfgs) stored as float16 "
        "weights; inference is numpy (`softmax(W·x + b)`).",
        f"  - `emotion`: the vector{emotion_rules}; then fused with the rule scores at weight {models.rule_weight}.",
        '  - `emotion_vector`: the vector alone (the evaluation\'s "model only").',
        f"  - `situation`: the vector{situation_cues}, trained on the "
        "main situation (further labelled situations as extra rows of weight "
        f"{SECONDARY_WEIGHT}); fused with the cue patterns' noisy-or at weight {models.cue_weight} (a situation is "
        f"listed at fused score >= {models.situation_min}).",
        "- Features are z-scored for fitting; the scaling is folded back into the stored weights.",
        "",
        "## Data",
        "",
        "- The project's customer-message corpus (eval/customer_messages/, the project's own): `train.yml` to fit, "
        "`dev.yml` to choose settings; `blind.yml` never used here.",
        "- In-domain additions: the Chinese train messages written in the other script (OpenCC), "
        "eval/analysis_messages.yml (emotion only) and the situation cue files' examples (situation only), "
        "unless the command says --no-augment / --no-extras.",
        external_line,
        "",
        "Training examples per source and label:",
        "",
        "| source:label | n |",
        "|---|---:|",
    ]
    counts = report.counts["in_domain"] | report.counts["external"]
    lines += [f"| {k} | {v} |" for k, v in sorted(counts.items())]
    lines += ["", "## Label mapping (assist/analysis/data/learned_mapping.yml)", ""]
    for source, table in m.items():
        lines.append(f"- {source}: " + ", ".join(f"{k} → {v or 'dropped'}" for k, v in table.items()))
    lines += [
        "",
        "A GoEmotions row whose labels map to two different emotions is dropped.",
        "",
        "## Choice (on dev)",
        "",
        f"`{json.dumps(report.choice)}` — the grid: rules as features or not × C × customer-example weight × "
        "late rule-fusion weight, scored by the mean over zh-Hans, zh-Hant, en of emotion macro-F1 on dev; "
        "situations: C × cue weight by top-1 (main situation) on dev.",
        "",
        "## Figures (dev split; emotion macro-F1 and neutral rate on emotional messages, situation top-1)",
        "",
    ]
    rows = {}
    for lang, v in dev.items():
        for kind in ("rules", "model", "combined"):
            e = v["emotion"][kind]
            s = v["situation"][kind] if v.get("situation") else {"top1_main": 0.0, "top1_any": 0.0}
            rows[f"{lang} {kind}"] = {
                "emotion macro-F1": e["macro_f1"],
                "neutral on emotional": e["neutral_rate_on_emotional"],
                "situation top-1 (main)": s["top1_main"],
                "situation top-1 (any labelled)": s["top1_any"],
            }
    lines += _table(
        rows, ["emotion macro-F1", "neutral on emotional", "situation top-1 (main)", "situation top-1 (any labelled)"]
    )
    if goemotions:
        lines += ["", "GoEmotions dev, mapped (English Reddit; no customer-service text):", ""]
        lines += _table(
            {
                k: {"macro-F1": v["macro_f1"], "neutral on emotional": v["neutral_rate_on_emotional"]}
                for k, v in goemotions.items()
            },
            ["macro-F1", "neutral on emotional"],
        )
    lines += [
        "",
        "Blind-split figures are in docs/analysis.md (scored once, after this choice).",
        "",
        "## Limits",
        "",
        "- The customer corpus was written and labelled by one AI helper session; dev and train share its style.",
        "- GoEmotions and CPED are not customer service; their labels are mapped, and some mapped labels are loose "
        "(disapproval → frustration, curiosity → confusion).",
        "- The model reads one message; conversation context (carry-over, after a refusal) reaches it only through "
        "the rules' scores.",
        "",
    ]
    return "\n".join(lines)
