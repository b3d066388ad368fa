"""The learned emotion and situation models: multinomial logistic regressions over the message vector (the
configured encoder's query embedding) plus the rules' reading, and over the message's character n-grams (the
lexical channel), run in numpy (inference only; `assist train emotion` fits them, assist/analysis/training.py).

The shipped file is `data/learned.npz` (its card: `data/MODEL_CARD.md`), trained on multilingual-e5-small;
`data/learned_minilm.npz` (card: `data/MODEL_CARD_minilm.md`) is trained on MiniLM for English messages, for
an encoder per language. A file is used only for messages encoded by the encoder it was trained on; otherwise
the analyzer runs its rules alone and says so.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assist.vocab import CUE_KINDS, EMOTIONS, SITUATIONS

logger = logging.getLogger(__name__)

MODEL_FILE = Path(__file__).resolve().parent / "data" / "learned.npz"
# Files trained on other encoders (an encoder per language, assist.retrieval.routing): MiniLM's, for English.
# Each has its card beside it; the analyzer reads a message with the file of the encoder that encoded it.
OTHER_MODEL_FILES = (Path(__file__).resolve().parent / "data" / "learned_minilm.npz",)
FORMAT = 2
# Rule evidence given to the models beside the vector: the rules' normalised emotion scores and one
# indicator per message-level cue kind (burst/silence are conversation-level and never in the training text).
FEATURE_CUES = tuple(k for k in CUE_KINDS if k not in ("burst", "silence"))


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def rule_features(scores: dict[str, float], cue_kinds: Sequence[str] | set[str]) -> np.ndarray:
    """The rules' reading as numbers: 7 normalised emotion scores, then 0/1 per cue kind in FEATURE_CUES."""
    kinds = set(cue_kinds)
    return np.array(
        [scores.get(e, 0.0) for e in EMOTIONS] + [1.0 if k in kinds else 0.0 for k in FEATURE_CUES],
        dtype=np.float32,
    )


def cue_features(cue: dict[str, float]) -> np.ndarray:
    """The situation cue patterns' scores (noisy-or per situation) in SITUATIONS order."""
    return np.array([cue.get(s, 0.0) for s in SITUATIONS], dtype=np.float32)


_SPACES = re.compile(r"\s+")
LEX_MAX_N = 3  # character 1- to 3-grams


def lex_text(text: str) -> str:
    """The lexical channel's form of a message: every language's normalisation (Traditional → Simplified),
    case-folded, runs of white space as one space, padded with a space at each end (word edges)."""
    from assist.languages import registry

    return " " + _SPACES.sub(" ", registry().normalize(text).casefold()).strip() + " "


def ngrams(text: str, n_max: int = LEX_MAX_N) -> Counter[str]:
    """Character 1..n_max-grams of `lex_text(text)` (those that are not all white space), with counts."""
    t = lex_text(text)
    grams: list[str] = list(t)
    for n in range(2, n_max + 1):
        grams.extend(map("".join, zip(*(t[k:] for k in range(n)), strict=False)))
    out = Counter(grams)
    for g in [g for g in out if g.isspace()]:
        del out[g]
    return out


@dataclass(slots=True)
class Lexical:
    """TF-IDF of character n-grams over a fixed vocabulary: sublinear counts × idf, L2-normalised; n-grams
    outside the vocabulary are ignored. `features` gives the sparse vector as (column indices, values)."""

    vocab: dict[str, int]
    idf: np.ndarray  # (V,)
    _last: tuple[str, tuple[np.ndarray, np.ndarray]] | None = None

    @classmethod
    def fit(cls, texts: Sequence[str], min_df: int = 2) -> Lexical:
        df: Counter[str] = Counter()
        for t in texts:
            df.update(set(ngrams(t)))
        grams = sorted(g for g, c in df.items() if c >= min_df)
        n = len(texts)
        idf = np.array([math.log((1 + n) / (1 + df[g])) + 1 for g in grams], dtype=np.float32)
        return cls({g: i for i, g in enumerate(grams)}, idf)

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        last = self._last
        if last is not None and last[0] == text:  # the emotion and situation heads read the same message
            return last[1]
        counts = ngrams(text)
        get = self.vocab.get
        cols = np.array([get(g, -1) for g in counts], dtype=np.int64)
        known = cols >= 0
        idx = cols[known]
        v = (1.0 + np.log(np.array(list(counts.values()), dtype=np.float32)[known])) * self.idf[idx]
        norm = float(np.sqrt(float(v @ v))) if len(v) else 0.0
        out = (idx, v / norm if norm else v)
        self._last = (text, out)
        return out


@dataclass(slots=True)
class Linear:
    """softmax(W·[x ; rule_scale·r] + b) over `labels`."""

    labels: tuple[str, ...]
    W: np.ndarray  # (k, d)
    b: np.ndarray  # (k,)
    rules: bool  # whether rule features follow the vector
    rule_scale: float = 1.0
    _WT: np.ndarray | None = None  # W transposed, made on the first sparse product

    def features(self, vector: np.ndarray, rules: np.ndarray | None) -> np.ndarray:
        if not self.rules:
            return vector
        if rules is None:
            raise ValueError("this model reads rule features beside the vector")
        return np.concatenate([vector, rules * self.rule_scale], axis=-1)

    def proba(self, vector: np.ndarray, rules: np.ndarray | None = None) -> np.ndarray:
        x = self.features(np.asarray(vector, dtype=np.float32), rules)
        return softmax(x @ self.W.T + self.b)

    def proba_sparse(self, idx: np.ndarray, val: np.ndarray) -> np.ndarray:
        """softmax(W·x + b) for a sparse x given as (column indices, values): the lexical heads."""
        if self._WT is None:
            self._WT = np.ascontiguousarray(self.W.T)  # rows per feature: the gather reads contiguous memory
        return softmax(val @ self._WT[idx] + self.b)


KNN_K = 10
KNN_DIMS = 96  # 128 / 96 / 64 scored the same held out (docs/analysis.md § Round 4); 96 keeps the file under 2 MB


@dataclass(slots=True)
class Neighbours:
    """Nearest labelled messages (round 4): the in-domain training messages' vectors projected on their first
    principal directions (`proj`), L2-normalised and stored as int8 codes with a scale per row, each with its
    emotion and main situation (index into EMOTIONS / SITUATIONS, -1 for none). `votes` gives, per query
    vector, the share of each emotion and main situation among the `k` most cosine-similar rows."""

    proj: np.ndarray  # (dim, r)
    codes: np.ndarray  # (n, r) int8
    scale: np.ndarray  # (n,)
    emotion: np.ndarray  # (n,) int
    situation: np.ndarray  # (n,) int
    k: int = KNN_K
    _T: np.ndarray | None = None  # the rows decoded (float32), made on first use
    _last: tuple[bytes, tuple[np.ndarray, np.ndarray]] | None = None

    @classmethod
    def fit(
        cls,
        X: np.ndarray,
        emotions: Sequence[str | None],
        situations: Sequence[str | None],
        dims: int = KNN_DIMS,
        k: int = KNN_K,
    ) -> Neighbours:
        X = np.asarray(X, dtype=np.float32)
        _, _, vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
        proj = np.ascontiguousarray(vt[: min(dims, vt.shape[0])].T.astype(np.float32))
        T = X @ proj
        T /= np.linalg.norm(T, axis=1, keepdims=True) + 1e-12
        scale = np.abs(T).max(axis=1) / 127 + 1e-12
        codes = np.round(T / scale[:, None]).astype(np.int8)
        emo = np.array([EMOTIONS.index(e) if e else -1 for e in emotions], dtype=np.int16)
        sit = np.array([SITUATIONS.index(s) if s else -1 for s in situations], dtype=np.int16)
        return cls(proj, codes, scale.astype(np.float32), emo, sit, k)

    def votes(self, Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(emotion shares (n, 7) in EMOTIONS order, main-situation shares (n, 14) in SITUATIONS order)."""
        Q = np.asarray(Q, dtype=np.float32)
        key = Q.tobytes() if Q.ndim == 1 else None
        if key is not None and self._last is not None and self._last[0] == key:
            return self._last[1]  # the emotion and situation heads read the same message
        out = self._votes(Q)
        if key is not None:
            self._last = (key, out)
        return out

    def _votes(self, Q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._T is None:
            self._T = np.ascontiguousarray((self.codes.astype(np.float32) * self.scale[:, None]).T)
        Q = np.atleast_2d(np.asarray(Q, dtype=np.float32)) @ self.proj
        Q /= np.linalg.norm(Q, axis=1, keepdims=True) + 1e-12
        sims = Q @ self._T
        k = min(self.k, sims.shape[1])
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < sims.shape[1] else np.argsort(-sims, axis=1)
        ke = np.zeros((len(Q), len(EMOTIONS)), np.float32)
        ks = np.zeros((len(Q), len(SITUATIONS)), np.float32)
        for i, row in enumerate(top):
            e, st = self.emotion[row], self.situation[row]
            np.add.at(ke[i], e[e >= 0], 1.0)
            np.add.at(ks[i], st[st >= 0], 1.0)
        ke /= np.maximum(ke.sum(axis=1, keepdims=True), 1.0)
        ks /= np.maximum(ks.sum(axis=1, keepdims=True), 1.0)
        return ke, ks


HEADS = ("emotion", "emotion_vector", "situation")
LEX_HEADS = ("emotion_lex", "situation_lex")  # over the lexical channel; present when `lexical` is


@dataclass(slots=True)
class LearnedModels:
    """The heads: `emotion` (the one the analyzer uses), `emotion_vector` (the vector alone: the "model only"
    figure of the evaluation) and `situation` (main situation, vector alone); with `lexical`, also
    `emotion_lex` and `situation_lex` over the message's character n-grams, mixed in at `lex_weight` and
    `situation_lex_weight`."""

    encoder: str  # the encoder name the vectors came from (Encoder.name)
    dim: int
    heads: dict[str, Linear]
    # Fusion (chosen on dev; MODEL_CARD.md): emotion = (1 - rule_weight)·p_emotion + rule_weight·rule scores;
    # situation score = (1 - cue_weight)·p_situation + cue_weight·cue score (noisy-or of the cue patterns).
    rule_weight: float = 0.0
    cue_weight: float = 0.5
    situation_min: float = 0.2
    meta: dict[str, Any] = field(default_factory=dict)
    lexical: Lexical | None = None
    lex_weight: float = 0.0
    situation_lex_weight: float = 0.0
    # k-NN over the training messages (round 4), mixed in after the lexical heads at these weights
    neighbours: Neighbours | None = None
    knn_weight: float = 0.0
    situation_knn_weight: float = 0.0

    @property
    def emotion(self) -> Linear:
        return self.heads["emotion"]

    @property
    def situation(self) -> Linear:
        return self.heads["situation"]

    @classmethod
    def load(cls, path: Path) -> LearnedModels:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") not in (1, FORMAT):  # format 1: the same without the lexical channel
                raise ValueError(f"{path.name}: format {meta.get('format')!r}, expected {FORMAT}")
            heads = {}
            for name in (*HEADS, *(h for h in LEX_HEADS if h in meta["heads"])):
                m = meta["heads"][name]
                labels = tuple(m["labels"])
                W, b = z[f"{name}_W"].astype(np.float32), z[f"{name}_b"].astype(np.float32)
                if W.ndim != 2 or W.shape[0] != len(labels) or b.shape != (len(labels),):
                    raise ValueError(f"{path.name}: {name} weights do not match its labels")
                heads[name] = Linear(labels, W, b, bool(m["rules"]), float(m.get("rule_scale", 1.0)))
            lexical = None
            if "lex_vocab" in z.files:
                vocab = z["lex_vocab"].tolist()
                lexical = Lexical({g: i for i, g in enumerate(vocab)}, z["lex_idf"].astype(np.float32))
                if set(LEX_HEADS) - set(heads) or any(heads[h].W.shape[1] != len(vocab) for h in LEX_HEADS):
                    raise ValueError(f"{path.name}: lexical heads do not match the n-gram vocabulary")
            neighbours = None
            if "knn_codes" in z.files:
                neighbours = Neighbours(
                    z["knn_proj"].astype(np.float32),
                    z["knn_codes"],
                    z["knn_scale"].astype(np.float32),
                    z["knn_emotion"].astype(np.int64),
                    z["knn_situation"].astype(np.int64),
                    int(meta.get("fusion", {}).get("knn_k", KNN_K)),
                )
                if neighbours.proj.shape[0] != int(meta["dim"]) or len(neighbours.codes) != len(neighbours.emotion):
                    raise ValueError(f"{path.name}: the neighbour table does not match the encoder's dimensions")
        for name in ("emotion", "emotion_vector"):
            if set(heads[name].labels) != set(EMOTIONS):
                raise ValueError(f"{path.name}: {name} labels differ from assist/vocab.py EMOTIONS")
        if not set(heads["situation"].labels) <= set(SITUATIONS):
            raise ValueError(f"{path.name}: situation labels differ from assist/vocab.py SITUATIONS")
        fusion = meta.get("fusion", {})
        return cls(
            meta["encoder"],
            int(meta["dim"]),
            heads,
            float(fusion.get("rule_weight", 0.0)),
            float(fusion.get("cue_weight", 0.5)),
            float(fusion.get("situation_min", 0.2)),
            meta,
            lexical,
            float(fusion.get("lex_weight", 0.0)) if lexical is not None else 0.0,
            float(fusion.get("situation_lex_weight", 0.0)) if lexical is not None else 0.0,
            neighbours,
            float(fusion.get("knn_weight", 0.0)) if neighbours is not None else 0.0,
            float(fusion.get("situation_knn_weight", 0.0)) if neighbours is not None else 0.0,
        )

    def save(self, path: Path) -> None:
        meta = dict(self.meta)
        meta.update(
            format=FORMAT,
            encoder=self.encoder,
            dim=self.dim,
            fusion={
                "rule_weight": self.rule_weight,
                "cue_weight": self.cue_weight,
                "situation_min": self.situation_min,
                "lex_weight": self.lex_weight,
                "situation_lex_weight": self.situation_lex_weight,
                "knn_weight": self.knn_weight,
                "situation_knn_weight": self.situation_knn_weight,
                "knn_k": self.neighbours.k if self.neighbours is not None else KNN_K,
            },
            heads={
                name: {"labels": list(h.labels), "rules": h.rules, "rule_scale": h.rule_scale}
                for name, h in self.heads.items()
            },
        )
        arrays: dict[str, np.ndarray] = {"meta": np.array(json.dumps(meta, ensure_ascii=False))}
        for name, h in self.heads.items():
            arrays[f"{name}_W"] = h.W.astype(np.float16)
            arrays[f"{name}_b"] = h.b.astype(np.float32)
        if self.lexical is not None:
            arrays["lex_vocab"] = np.array(sorted(self.lexical.vocab, key=self.lexical.vocab.__getitem__))
            arrays["lex_idf"] = self.lexical.idf.astype(np.float32)
        if self.neighbours is not None:
            nb = self.neighbours
            arrays["knn_proj"] = nb.proj.astype(np.float16)
            arrays["knn_codes"] = nb.codes.astype(np.int8)
            arrays["knn_scale"] = nb.scale.astype(np.float32)
            arrays["knn_emotion"] = nb.emotion.astype(np.int8)
            arrays["knn_situation"] = nb.situation.astype(np.int8)
        np.savez_compressed(path, **arrays)  # type: ignore[arg-type]

    def lex_proba(self, head: str, text: str | None) -> np.ndarray | None:
        """A lexical head's probabilities for `text` (None without the lexical channel or a text)."""
        if self.lexical is None or text is None or head not in self.heads:
            return None
        return self.heads[head].proba_sparse(*self.lexical.features(text))

    def emotion_proba(
        self,
        vector: np.ndarray,
        scores: dict[str, float],
        cue_kinds: set[str],
        head: str = "emotion",
        text: str | None = None,
    ) -> dict[str, float]:
        """Probability per emotion (sums to 1): the head's; for `emotion`, mixed with the lexical head's on
        `text` (`lex_weight`), then fused with the rules' scores (`rule_weight`)."""
        h = self.heads[head]
        p = h.proba(vector, rule_features(scores, cue_kinds) if h.rules else None)
        lex = self.lex_proba("emotion_lex", text) if head == "emotion" and self.lex_weight else None
        if lex is not None:
            p = (1 - self.lex_weight) * p + self.lex_weight * lex
        if head == "emotion" and self.neighbours is not None and self.knn_weight:
            ke = self.neighbours.votes(vector)[0][0]
            p = (1 - self.knn_weight) * p + self.knn_weight * ke[[EMOTIONS.index(x) for x in h.labels]]
        out = {label: float(v) for label, v in zip(h.labels, p, strict=True)}
        if head == "emotion" and self.rule_weight:
            w = self.rule_weight
            out = {e: (1 - w) * out.get(e, 0.0) + w * scores.get(e, 0.0) for e in EMOTIONS}
            total = sum(out.values()) or 1.0
            out = {e: v / total for e, v in out.items()}
        return {e: out.get(e, 0.0) for e in EMOTIONS}

    def situation_proba(
        self, vector: np.ndarray, cue: dict[str, float] | None = None, text: str | None = None
    ) -> dict[str, float]:
        """The situation head's probabilities (it may read the cue patterns' scores beside the vector), mixed
        with the lexical head's on `text` at `situation_lex_weight`."""
        h = self.situation
        p = h.proba(vector, cue_features(cue or {}) if h.rules else None)
        lex = self.lex_proba("situation_lex", text) if self.situation_lex_weight else None
        if lex is not None:
            p = (1 - self.situation_lex_weight) * p + self.situation_lex_weight * lex
        if self.neighbours is not None and self.situation_knn_weight:
            ks = self.neighbours.votes(vector)[1][0]
            w = self.situation_knn_weight
            p = (1 - w) * p + w * ks[[SITUATIONS.index(x) for x in h.labels]]
        return {s: float(p[i]) for i, s in enumerate(h.labels)}

    def situation_scores(self, vector: np.ndarray, cue: dict[str, float], text: str | None = None) -> dict[str, float]:
        """Fused score per situation: the models' probability and the cue patterns' noisy-or."""
        p = self.situation_proba(vector, cue, text)
        w = self.cue_weight
        return {s: (1 - w) * p.get(s, 0.0) + w * cue.get(s, 0.0) for s in SITUATIONS}


def intensity(probs: dict[str, float], label: str, boost: float) -> float:
    """0 for neutral; else how sure the message is emotional and of this label, plus the rules' cue boosts."""
    if label == "neutral":
        return 0.0
    value = (1.0 - probs.get("neutral", 0.0)) * (0.4 + 0.6 * probs.get(label, 0.0)) + boost
    return round(min(max(value, 0.0), 1.0), 3)


def load_shipped(path: Path | None = None) -> LearnedModels | None:
    """The packaged model (MODEL_FILE), or None when there is none or it does not load (logged)."""
    path = path or MODEL_FILE
    if not path.is_file():
        return None
    try:
        return LearnedModels.load(path)
    except (OSError, ValueError, KeyError) as exc:
        logger.warning("analysis: learned model %s not loaded (%s); rules only", path.name, exc)
        return None


def load_shipped_others(paths: Sequence[Path] = OTHER_MODEL_FILES) -> list[LearnedModels]:
    """The packaged files of other encoders than the default one's (OTHER_MODEL_FILES) that load."""
    return [model for path in paths if (model := load_shipped(path)) is not None]
