"""Training corpora for the learned emotion and situation models (train time only, never at serve time).

Each loader returns `Example`s with the product's labels (assist/vocab.py), mapped from the source's labels by
`data/learned_mapping.yml`. `VectorCache` encodes texts once per encoder and keeps the vectors on disk.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from assist.vocab import EMOTIONS, SITUATIONS

logger = logging.getLogger(__name__)

MAPPING_FILE = Path(__file__).resolve().parent / "data" / "learned_mapping.yml"
# The repo's labelled customer-message corpus (a tool, not package data).
CUSTOMER_DIR = Path(__file__).resolve().parent.parent.parent / "eval" / "customer_messages"


def shared_data() -> Path:
    """`../shared/data` of the project root (issue 15); $ASSIST_SHARED_DATA overrides it. A git worktree
    under `<project>/wt/<name>` finds the project's one as well."""
    env = os.environ.get("ASSIST_SHARED_DATA")
    if env:
        return Path(env)
    root = Path(__file__).resolve().parent.parent.parent
    for base in (root.parent, root.parent.parent):
        if (base / "shared" / "data").is_dir():
            return base / "shared" / "data"
    return root.parent / "shared" / "data"


@dataclass(slots=True)
class Example:
    text: str
    emotion: str | None  # None: the source has no usable emotion for it
    lang: str
    source: str
    situations: list[str] = field(default_factory=list)
    cues: list[str] = field(default_factory=list)
    id: str = ""


@lru_cache(maxsize=1)
def mapping() -> dict[str, dict[str, str | None]]:
    raw = yaml.safe_load(MAPPING_FILE.read_text(encoding="utf-8"))
    for source, table in raw.items():
        for label, target in table.items():
            if target is not None and target not in EMOTIONS:
                raise ValueError(f"{MAPPING_FILE.name}: {source}.{label} maps to unknown emotion {target!r}")
    return raw


def load_customer(split: str, root: Path = CUSTOMER_DIR) -> list[Example]:
    """eval/customer_messages/<split>.yml: emotion, situations (first = main), cues."""
    if split.startswith("blind") and split not in ("blind", "blind2", "blind3"):
        # blind.yml (round 1), blind2.yml (round 2) and blind3.yml (round 3) were scored once and are development
        # data since; a later blind split (blind4.yml) is for scoring once, never for fitting or choosing.
        logger.info("reading the blind split %s (scoring only)", split)
    raw = yaml.load((root / f"{split}.yml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or []
    out = []
    for m in raw:
        if m["emotion"] not in EMOTIONS or any(s not in SITUATIONS for s in m["situations"]):
            raise ValueError(f"{split}.yml {m['id']}: unknown label")
        out.append(
            Example(
                m["text"],
                m["emotion"],
                m["lang"],
                "customer",
                list(m["situations"]),
                list(m.get("cues") or []),
                m["id"],
            )
        )
    return out


def augment_scripts(examples: Sequence[Example]) -> list[Example]:
    """Chinese examples written again in the other script (OpenCC, the language manifest's converters):
    the encoder sees 係/系, 們/们 as different tokens, so each script learns from the other's messages."""
    from assist.languages import registry

    languages = registry()
    out = []
    for e in examples:
        for target in ("zh-Hans", "zh-Hant"):
            if e.lang == target or e.lang not in ("zh-Hans", "zh-Hant"):
                continue
            convert = languages.converter(e.lang, target)
            text = convert(e.text) if convert else e.text
            if text != e.text:
                out.append(Example(text, e.emotion, target, "customer-script", list(e.situations), list(e.cues), e.id))
    return out


def load_analysis_messages(path: Path | None = None) -> list[Example]:
    """eval/analysis_messages.yml (the rules' labelled messages): emotion only."""
    path = path or CUSTOMER_DIR.parent / "analysis_messages.yml"
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or []
    return [Example(m["text"], m["emotion"], m["lang"], "analysis_messages", id=m["id"]) for m in raw]


def load_situation_examples() -> list[Example]:
    """The situation cue files' examples with an `expect` (assist/languages/<name>/situations.yml)."""
    from assist.languages import registry

    languages = registry()
    out = []
    for lg in languages.languages:
        path = lg.path("situations.yml")
        if not path.is_file():
            continue
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, entry in raw.items():
            for ex in entry.get("examples", []):
                if ex.get("expect") == name:
                    lang = languages.detect(ex["text"]).lang
                    out.append(Example(ex["text"], None, lang, "situation_examples", [name], id=name))
    return out


def map_goemotions(ids: Sequence[int], names: Sequence[str]) -> str | None:
    """A row's labels mapped; kept only when every mapped label agrees (dropped labels are ignored)."""
    table = mapping()["goemotions"]
    targets = {table.get(names[i]) for i in ids} - {None}
    return targets.pop() if len(targets) == 1 else None


def load_goemotions(split: str, root: Path | None = None) -> list[Example]:
    root = root or shared_data() / "goemotions"
    names = (root / "labels.txt").read_text(encoding="utf-8").split()
    out = []
    with open(root / f"{split}.tsv", encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2:
                continue
            ids = [int(x) for x in parts[1].split(",") if x]
            out.append(
                Example(parts[0], map_goemotions(ids, names), "en", "goemotions", id=parts[2] if len(parts) > 2 else "")
            )
    return out


def load_cped(root: Path | None = None) -> list[Example]:
    root = root or shared_data() / "cped"
    table = mapping()["cped"]
    out = []
    with open(root / "cped_valid.csv", encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            text = (row.get("Utterance") or "").strip()
            if text:
                out.append(Example(text, table.get(row["Emotion"]), "zh-Hans", "cped", id=row["Utterance_ID"]))
    return out


def subsample(examples: Sequence[Example], per_label: int, seed: int = 15) -> list[Example]:
    """At most `per_label` examples of each mapped emotion (unmapped ones dropped), in a fixed random order."""
    by: dict[str, list[Example]] = defaultdict(list)
    for e in examples:
        if e.emotion is not None:
            by[e.emotion].append(e)
    rng = random.Random(seed)
    out = []
    for label in EMOTIONS:
        group = by.get(label, [])
        rng.shuffle(group)
        out.extend(group[:per_label])
    return out


class VectorCache:
    """Query vectors of texts under one encoder, kept in `<dir>/<encoder>.npz`-style shards (text hash → row)."""

    def __init__(self, directory: Path, encoder_name: str) -> None:
        self.dir = directory
        safe = hashlib.sha256(encoder_name.encode()).hexdigest()[:12]
        self.path = directory / f"vectors-{safe}.npz"
        self.encoder_name = encoder_name
        self._vecs: dict[str, np.ndarray] = {}
        if self.path.is_file():
            with np.load(self.path, allow_pickle=False) as z:
                for k, v in zip(z["keys"].tolist(), z["vecs"], strict=True):
                    self._vecs[k] = v

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        keys = list(self._vecs)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=np.array(keys), vecs=np.stack([self._vecs[k] for k in keys]) if keys else np.zeros((0, 1)))
        tmp.replace(self.path)
        (self.dir / "ENCODER.txt").write_text(f"{self.path.name}: {self.encoder_name}\n", encoding="utf-8")

    def vectors(
        self,
        texts: Sequence[str],
        encode: Callable[[list[str]], np.ndarray],
        chunk: int = 256,
        progress: Callable[[int, int], Any] | None = None,
    ) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if self.key(t) not in self._vecs))
        for start in range(0, len(missing), chunk):
            part = missing[start : start + chunk]
            vecs = encode(part)
            for t, v in zip(part, vecs, strict=True):
                self._vecs[self.key(t)] = np.asarray(v, dtype=np.float32)
            self.save()
            if progress is not None:
                progress(min(start + chunk, len(missing)), len(missing))
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._vecs[self.key(t)] for t in texts])
