"""HybridSearcher: approved phrases in a dense (FAISS) and a lexical (BM25) channel, fused, then reranked
with the analysis of the customer message (situation, emotion, customer profile, technique)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict

from assist.config import RetrievalSettings
from assist.lang import detect_lang, to_simplified
from assist.retrieval.embedder import Encoder, Progress, cache_name, encode_queries, text_hash
from assist.retrieval.hybrid import convex, normalize, rrf
from assist.retrieval.index import DenseIndex
from assist.retrieval.sparse import BM25
from assist.retrieval.tokenize import tokens
from assist.vocab import EMOTIONS, LANGS, PROFILE_LABELS, SITUATIONS, TECHNIQUES

logger = logging.getLogger(__name__)

CHANNELS = ("dense", "lexical", "fused", "rerank")
_SLOTS = len(LANGS)
_SIT = {s: i for i, s in enumerate(SITUATIONS)}
_EMO = {e: i for i, e in enumerate(EMOTIONS)}
_TYPE = {t: i for i, t in enumerate(PROFILE_LABELS)}
_TECH = {t: i for i, t in enumerate(TECHNIQUES)}
_LANG = {lang: i for i, lang in enumerate(LANGS)}
# Every situation / emotion bitmask as a row of 0/1: a query's weights turn into one score per mask value,
# which a row's mask then looks up (one gather over the bank instead of a pass per label).
_SIT_BITS = ((np.arange(1 << len(SITUATIONS))[:, None] >> np.arange(len(SITUATIONS))) & 1).astype(np.float32)
_EMO_BITS = ((np.arange(1 << len(EMOTIONS))[:, None] >> np.arange(len(EMOTIONS))) & 1).astype(np.float32)


class RerankPrefs(BaseModel):
    """Which techniques suit which emotion and which customer type (data/rerank.yml)."""

    model_config = ConfigDict(extra="forbid")
    emotion_techniques: dict[str, dict[str, float]]
    profile_techniques: dict[str, dict[str, float]]
    situation_emotions: dict[str, dict[str, float]]

    def model_post_init(self, _: Any) -> None:
        for situation, emotions in self.situation_emotions.items():
            bad = [x for x in [situation] if x not in _SIT] + [e for e in emotions if e not in _EMO]
            if bad:
                raise ValueError(f"rerank.yml: unknown label(s) {bad} under situation_emotions")

    def vectors(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        def vec(prefs: dict[str, float], where: str) -> np.ndarray:
            out = np.zeros(len(TECHNIQUES) + 1, dtype=np.float32)  # last slot: phrase without technique
            for tech, w in prefs.items():
                if tech not in _TECH:
                    raise ValueError(f"rerank.yml: unknown technique {tech!r} under {where}")
                out[_TECH[tech]] = w
            return out

        for name, known in (("emotion", _EMO), ("profile", _TYPE)):
            table = getattr(self, f"{name}_techniques")
            unknown = set(table) - set(known)
            if unknown:
                raise ValueError(f"rerank.yml: unknown {name} label(s) {sorted(unknown)}")
        return ({e: vec(p, e) for e, p in self.emotion_techniques.items()},
                {t: vec(p, t) for t, p in self.profile_techniques.items()})


@lru_cache(maxsize=1)
def load_prefs() -> RerankPrefs:
    text = resources.files("assist.retrieval").joinpath("data").joinpath("rerank.yml").read_text(encoding="utf-8")
    return RerankPrefs.model_validate(yaml.safe_load(text))


@dataclass(slots=True)
class Query:
    """What to search for: the customer's text and what the analysis found in it."""

    text: str
    lang: str | None = None  # detected when None
    situations: dict[str, float] = field(default_factory=dict)  # situation -> confidence
    emotion: str | None = None
    emotion_scores: dict[str, float] = field(default_factory=dict)
    customer_types: dict[str, float] = field(default_factory=dict)  # "dimension:label" -> confidence
    team: str | None = None
    k: int = 5
    vector: np.ndarray | None = None  # precomputed query embedding (micro-batching)


@dataclass(slots=True)
class Hit:
    phrase: dict[str, Any]
    text: str
    score: float
    why: str
    parts: dict[str, float]


def _mask(labels: Sequence[str], index: dict[str, int]) -> int:
    m = 0
    for label in labels:
        if label in index:
            m |= 1 << index[label]
    return m


@lru_cache(maxsize=16_384)
def _bigrams(text: str) -> frozenset[str]:
    """Character bigrams of a text (phrase texts recur in every search: remembered)."""
    t = "".join(text.lower().split())
    return frozenset({t[i : i + 2] for i in range(len(t) - 1)} or {t})


def near_duplicate(a: str, b: str, threshold: float = 0.6) -> bool:
    """Jaccard similarity of character bigrams at or above `threshold`."""
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / max(1, len(x | y)) >= threshold


class HybridSearcher:
    """Holds every approved phrase as a row: tag bitmasks, a BM25 document and up to two dense vectors."""

    def __init__(self, encoder: Encoder, settings: RetrievalSettings, prefs: RerankPrefs | None = None) -> None:
        self.encoder = encoder
        self.settings = settings
        prefs = prefs or load_prefs()
        self._emotion_tech, self._profile_tech = prefs.vectors()
        self._situation_emotions = prefs.situation_emotions
        self._lock = threading.RLock()
        self._rows: dict[int, int] = {}  # phrase id -> row
        self._phrases: list[dict[str, Any] | None] = []
        self._dense = DenseIndex(encoder.dim, settings.ivf_threshold, settings.nprobe)
        # Only texts in languages the model knows get a vector; the others would only add noise and time.
        self._dense_langs = [lang for lang in LANGS if lang in settings.model_langs]
        self._bm25 = BM25()
        self.model_loader: Any = None  # the thread loading the model beside a running service (assist.services)
        self._teams: dict[str, int] = {}
        cap = 64
        self._active = np.zeros(cap, dtype=bool)
        self._langs = np.zeros(cap, dtype=np.uint8)
        self._sit = np.zeros(cap, dtype=np.uint32)
        self._emo = np.zeros(cap, dtype=np.uint32)
        self._type = np.zeros(cap, dtype=np.uint32)
        self._tech = np.full(cap, len(TECHNIQUES), dtype=np.int64)
        self._team = np.zeros(cap, dtype=np.uint64)

    # ---- building and updating ------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._active.sum())

    def _grow(self, size: int) -> None:
        cap = len(self._active)
        if size <= cap:
            return
        new = max(size, cap * 2)
        for name in ("_active", "_langs", "_sit", "_emo", "_type", "_tech", "_team"):
            old = getattr(self, name)
            fill = len(TECHNIQUES) if name == "_tech" else 0
            arr = np.full(new, fill, dtype=old.dtype)
            arr[:cap] = old
            setattr(self, name, arr)

    def _team_bit(self, team: str) -> int:
        if team not in self._teams:
            if len(self._teams) >= 63:
                raise ValueError("more than 63 distinct phrase teams; the search index keeps teams as a bitmask")
            self._teams[team] = len(self._teams)
        return self._teams[team]

    def vectors_for(self, texts: Sequence[str], cache: Any = None, progress: Progress | None = None) -> np.ndarray:
        """Embeddings of texts, from the store's cache where present; new ones are encoded and cached."""
        if not texts:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        hashes = [text_hash(t) for t in texts]
        cached = cache.cached_vectors(cache_name(self.encoder), hashes) if cache is not None else {}
        missing = [i for i, h in enumerate(hashes) if h not in cached]
        out = np.zeros((len(texts), self.encoder.dim), dtype=np.float32)
        for i, h in enumerate(hashes):
            if h in cached:
                out[i] = np.frombuffer(cached[h], dtype=np.float32)
        if missing:
            encoded = self.encoder.encode([texts[i] for i in missing], progress=progress)
            out[missing] = encoded
            if cache is not None:
                cache.save_vectors(cache_name(self.encoder), self.encoder.dim,
                                   {hashes[i]: encoded[j].tobytes() for j, i in enumerate(missing)})
        return out

    def upsert(self, phrases: Sequence[dict[str, Any]], cache: Any = None, progress: Progress | None = None) -> None:
        """Add or replace phrases (as the store returns them). Only approved ones stay searchable."""
        todo: list[tuple[int, str]] = []  # (dense id, text)
        with self._lock:
            for p in phrases:
                row = self._rows.get(p["id"])
                if row is None:
                    row = self._rows[p["id"]] = len(self._phrases)
                    self._phrases.append(None)
                    self._grow(row + 1)
                self._dense.remove(np.arange(row * _SLOTS, row * _SLOTS + _SLOTS, dtype=np.int64))
                if p["status"] != "approved":
                    self._phrases[row] = None
                    self._active[row] = False
                    self._bm25.remove(row)
                    continue
                self._phrases[row] = p
                self._active[row] = True
                self._langs[row] = _mask(list(p["text"]), _LANG)
                self._sit[row] = _mask(p["situations"], _SIT)
                self._emo[row] = _mask(p["emotions"], _EMO)
                self._type[row] = _mask(p["customer_types"], _TYPE)
                self._tech[row] = _TECH.get(p["technique"] or "", len(TECHNIQUES))
                self._team[row] = np.uint64(sum(1 << self._team_bit(t) for t in p["teams"]))
                # Both Chinese scripts normalize to one Simplified text: index it once.
                texts = dict.fromkeys(to_simplified(t) for t in p["text"].values())
                self._bm25.set(row, [t for text in texts for t in tokens(text)])
                todo.extend((row * _SLOTS + _LANG[lang], p["text"][lang])
                            for lang in self._dense_langs if lang in p["text"])
        vectors = self.vectors_for([t for _, t in todo], cache, progress)
        with self._lock:
            self._dense.add(np.array([i for i, _ in todo], dtype=np.int64), vectors)

    def remove(self, phrase_ids: Sequence[int]) -> None:
        with self._lock:
            for pid in phrase_ids:
                row = self._rows.get(pid)
                if row is not None:
                    self._dense.remove(np.arange(row * _SLOTS, row * _SLOTS + _SLOTS, dtype=np.int64))
                    self._bm25.remove(row)
                    self._active[row] = False
                    self._phrases[row] = None

    @classmethod
    def build(cls, store: Any, encoder: Encoder, settings: RetrievalSettings,
              progress: Progress | None = None) -> HybridSearcher:
        """Index the store's approved phrases and follow its changes from then on."""
        searcher = cls(encoder, settings)
        searcher.upsert(store.records(statuses=["approved"]), cache=store, progress=progress)
        store.on_change(lambda ids: searcher.refresh(store, ids))
        return searcher

    def refresh(self, store: Any, phrase_ids: Sequence[int]) -> None:
        """Re-read changed phrases from the store and update their rows."""
        records = store.records(phrase_ids)
        self.upsert(records, cache=store)
        found = {p["id"] for p in records}
        self.remove([pid for pid in phrase_ids if pid not in found])

    # ---- searching --------------------------------------------------------------------------------

    def encode_query(self, text: str) -> np.ndarray:
        return encode_queries(self.encoder, [text])[0]

    def _dense_weight(self, lang: str) -> float:
        """The dense channel's weight for a language; 0 while the model is still loading."""
        if not getattr(self.encoder, "ready", True):
            return 0.0
        s = self.settings
        return s.lang_dense_weight.get(lang, s.dense_weight) if lang in s.model_langs else s.foreign_dense_weight

    def uses_dense(self, lang: str) -> bool:
        """Whether a reranked search in this language reads the dense channel (so needs a query vector)."""
        return self._dense_weight(lang) > 0

    def search(self, q: Query, channel: str = "rerank") -> list[Hit]:
        """Best phrases for a query, in the query's language and script.

        Args:
            q: the customer's text and its analysis.
            channel: "dense", "lexical" or "fused" rank by that channel alone (for evaluation);
                "rerank" (the default) adds the analysis and keeps the list diverse.
        Returns:
            Up to q.k hits, best first.
        """
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
        lang = q.lang or detect_lang(q.text).lang
        w = self._dense_weight(lang)
        use_dense = channel == "dense" or (channel != "lexical" and w > 0)
        vector = q.vector if q.vector is not None or not use_dense else self.encode_query(q.text)
        with self._lock:
            n = len(self._phrases)
            if n == 0:
                return []
            eligible = self._active[:n] & ((self._langs[:n] >> _LANG.get(lang, 0)) & 1).astype(bool)
            bit = self._teams.get(q.team or "")
            team = self._team[:n]
            visible = team == 0
            if bit is not None:
                visible |= (team & np.uint64(1 << bit)) != 0
            eligible &= visible
            dense = np.zeros(n, dtype=np.float32)
            if use_dense and vector is not None:
                ids, sims = self._dense.search(vector, self.settings.dense_depth)
                rows = ids // _SLOTS
                np.maximum.at(dense, rows, np.clip(sims, 0.0, 1.0))
            lexical = normalize(self._bm25.scores(tokens(q.text), n)) if channel != "dense" else np.zeros(n)
            parts = {"dense": dense, "lexical": lexical}
            if self.settings.fusion == "rrf":
                fused = rrf(dense * (w > 0), lexical * (w < 1), depth=self.settings.dense_depth)
            else:
                fused = convex(dense, lexical, w)
            parts["fused"] = fused
            aspects: dict[tuple[int, int], float] = {}
            if channel == "rerank":
                total, aspects = self._rerank(q, fused, parts, n)
            else:  # one channel alone ranks only what it scored
                total = np.where(parts[channel] > 0, parts[channel], -np.inf)
            total = np.where(eligible, total, -np.inf)
            return self._top(q, lang, total, parts, channel, aspects)

    def _rerank(self, q: Query, fused: np.ndarray, parts: dict[str, np.ndarray],
                n: int) -> tuple[np.ndarray, dict[tuple[int, int], float]]:
        s = self.settings
        mass = sum(q.situations.values())
        weights = np.zeros(len(SITUATIONS), dtype=np.float32)
        for name, conf in q.situations.items():
            if name in _SIT:
                weights[_SIT[name]] += conf
        sit = (_SIT_BITS @ (weights / mass if mass else weights))[self._sit[:n]]
        scores = dict(q.emotion_scores) if any(q.emotion_scores.values()) else ({q.emotion: 1.0} if q.emotion else {})
        if q.emotion in (None, "neutral") and mass:
            # The message shows no emotion: mix in what its situations imply (rerank.yml), both scaled to 1.
            implied: dict[str, float] = {}
            for name, conf in q.situations.items():
                for emotion, w in self._situation_emotions.get(name, {}).items():
                    implied[emotion] = implied.get(emotion, 0.0) + conf * w
            w = s.situation_emotion_weight
            top_a, top_i = max(scores.values(), default=0.0) or 1.0, max(implied.values(), default=0.0) or 1.0
            scores = {e: (1 - w) * scores.get(e, 0.0) / top_a + w * implied.get(e, 0.0) / top_i
                      for e in set(scores) | set(implied)}
        top_emotion = max(scores.values(), default=0.0) or 1.0
        weights = np.zeros(len(EMOTIONS), dtype=np.float32)
        for name, score in scores.items():
            if name in _EMO and score > 0:
                weights[_EMO[name]] = score / top_emotion
        emo = (_EMO_BITS * weights).max(axis=1)[self._emo[:n]]
        cust = np.zeros(n, dtype=np.float32)
        known = {t: c for t, c in q.customer_types.items() if t in _TYPE and c > 0}
        for name, conf in known.items():
            cust += conf * ((self._type[:n] >> _TYPE[name]) & 1)
        if known:
            cust /= len(known)
        pref = np.zeros(len(TECHNIQUES) + 1, dtype=np.float32)
        if q.emotion in self._emotion_tech:
            pref = np.maximum(pref, self._emotion_tech[q.emotion])
        for name, conf in known.items():
            if name in self._profile_tech:
                pref = np.maximum(pref, conf * self._profile_tech[name])
        tech = pref[self._tech[:n]]
        parts.update(situation=sit, emotion=emo, customer=cust, technique=tech)
        total = (s.w_text * fused + s.w_situation * sit + s.w_emotion * emo + s.w_customer * cust
                 + s.w_technique * tech)
        return total, self._aspects(q.situations, scores)

    @staticmethod
    def _aspects(situations: dict[str, float], emotions: dict[str, float]) -> dict[tuple[int, int], float]:
        """The readings of the message a suggestion can answer: (situation bit, emotion bit) -> probability."""
        sit = {_SIT[k]: v for k, v in situations.items() if k in _SIT and v > 0}
        emo = {_EMO[k]: v for k, v in emotions.items() if k in _EMO and v > 0}
        ms, me = sum(sit.values()), sum(emo.values())
        if not ms or not me:
            return {}
        return {(a, b): (x / ms) * (y / me) for a, x in sit.items() for b, y in emo.items()}

    def _top(self, q: Query, lang: str, total: np.ndarray, parts: dict[str, np.ndarray], channel: str,
             aspects: dict[tuple[int, int], float]) -> list[Hit]:
        pool = min(len(total), max(q.k * 8, 40))
        order = np.argpartition(-total, pool - 1)[:pool] if pool < len(total) else np.arange(len(total))
        order = order[np.argsort(-total[order], kind="stable")]
        order = order[np.isfinite(total[order])].tolist()
        if channel == "rerank" and aspects and self.settings.w_coverage > 0:
            order = self._cover(order, total, aspects, q.k)
        readings = {EMOTIONS[e] for _, e in aspects}
        hits: list[Hit] = []
        per_technique: dict[str | None, int] = {}
        held: list[int] = []
        for row in order:
            if len(hits) >= q.k:
                break
            p = self._phrases[row]
            assert p is not None
            text = p["text"][lang]
            if channel == "rerank":
                if any(near_duplicate(text, h.text) for h in hits):
                    continue
                if per_technique.get(p["technique"], 0) >= 2:  # keep the list varied; used if room is left
                    held.append(int(row))
                    continue
                per_technique[p["technique"]] = per_technique.get(p["technique"], 0) + 1
            hits.append(self._hit(q, p, text, float(total[row]), {k: float(v[row]) for k, v in parts.items()},
                                  readings))
        for row in held:
            if len(hits) >= q.k:
                break
            p = self._phrases[row]
            assert p is not None
            text = p["text"][lang]
            if not any(near_duplicate(text, h.text) for h in hits):
                hits.append(self._hit(q, p, text, float(total[row]), {k: float(v[row]) for k, v in parts.items()},
                                  readings))
        return hits

    def _cover(self, order: list[int], total: np.ndarray, aspects: dict[tuple[int, int], float],
               k: int) -> list[int]:
        """Greedy coverage of the message's readings (xQuAD-style): each next pick maximises its score plus
        `w_coverage` times the probability of the (situation, emotion) readings it answers that no earlier
        pick answers. An uncertain analysis thus gets its likely readings each answered near the top."""
        rows = np.array(order, dtype=np.int64)
        sit, emo = self._sit[rows], self._emo[rows]
        keys = list(aspects)
        prob = np.array([aspects[a] for a in keys], dtype=np.float32)
        covers = np.stack([((sit >> s) & 1) & ((emo >> e) & 1) for s, e in keys], axis=1).astype(np.float32)
        score = total[rows].astype(np.float32)
        left = np.ones(len(rows), dtype=bool)
        picked: list[int] = []
        for _ in range(min(len(rows), k * 2)):
            gain = np.where(left, score + self.settings.w_coverage * (covers @ prob), -np.inf)
            best = int(np.argmax(gain))
            picked.append(best)
            left[best] = False
            prob = prob * (1.0 - covers[best])  # readings this pick answers earn nothing further
        return [order[i] for i in picked] + [order[i] for i in np.flatnonzero(left)]

    def _hit(self, q: Query, p: dict[str, Any], text: str, score: float, parts: dict[str, float],
             readings: Collection[str] = ()) -> Hit:
        reasons = []
        emotions = [e for e in p["emotions"] if e == q.emotion]
        if not emotions:  # answers another likely reading of the message (coverage)
            emotions = [f"{e} (other reading)" for e in p["emotions"] if e in readings and e != "neutral"][:1]
        situations = [s for s in p["situations"] if s in q.situations]
        if emotions or situations:
            reasons.append(" + ".join(emotions + situations))
        types = [t for t in p["customer_types"] if t in q.customer_types]
        if types:
            reasons.append("fits " + ", ".join(types))
        if p["technique"]:
            reasons.append(f"technique: {p['technique']}")
        if parts.get("lexical", 0.0) > 0:
            theirs = set(tokens(text))
            shared = [t for t in dict.fromkeys(tokens(q.text)) if t in theirs][:3]
            if shared:
                reasons.append("shares " + ", ".join(shared))
        return Hit(phrase=p, text=text, score=round(score, 4), why="; ".join(reasons), parts=parts)
