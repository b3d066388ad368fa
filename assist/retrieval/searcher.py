"""HybridSearcher: approved phrases in a dense (FAISS) and a lexical (BM25) channel, fused, then reranked
with the analysis of the customer message (situation, emotion, customer profile, technique).

The parts: rows.py (a phrase's labels as bitmasks), rerank.py (analysis features), diversify.py (coverage,
near-duplicates, technique variety), explain.py (why a phrase was suggested); this module orchestrates."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from assist.config import RetrievalSettings
from assist.languages import registry
from assist.retrieval import diversify, explain
from assist.retrieval.embedder import Encoder, Progress, cache_name, encode_queries, query_cache_name, text_hash
from assist.retrieval.hybrid import convex, normalize, rrf
from assist.retrieval.index import DenseIndex
from assist.retrieval.query import Hit, Query
from assist.retrieval.rerank import Reranker, RerankPrefs, load_prefs
from assist.retrieval.routing import EncoderRoutes
from assist.retrieval.rows import Rows
from assist.retrieval.sparse import BM25
from assist.retrieval.tokenize import tokens
from assist.vocab import EMOTIONS

__all__ = ["CHANNELS", "Hit", "HybridSearcher", "Query", "RerankPrefs", "load_prefs"]

logger = logging.getLogger(__name__)

CHANNELS = ("dense", "lexical", "fused", "rerank")


class HybridSearcher:
    """Holds every approved phrase as a row: tag bitmasks, a BM25 document and its dense vectors.

    With languages routed to other encoders (`lang_encoders`, assist.retrieval.routing), the dense index holds one
    vector space per encoder: a phrase's text or example is encoded by its language's encoder and goes in that
    encoder's space, and a query searches only the space of the encoder that encodes it."""

    def __init__(
        self,
        encoder: Encoder,
        settings: RetrievalSettings,
        prefs: RerankPrefs | None = None,
        lang_encoders: dict[str, Encoder] | None = None,
    ) -> None:
        self.encoder = encoder  # the default one (`model_name`)
        self.routes = EncoderRoutes(encoder, lang_encoders)
        self.settings = settings
        self._reranker = Reranker(settings, prefs)
        self._lock = threading.RLock()
        self._languages = registry()
        self._rows = Rows(self._languages.codes)
        # One space per encoder, by name; `_dense` is the default encoder's.
        self._spaces = {
            enc.name: DenseIndex(enc.dim, settings.ivf_threshold, settings.nprobe) for enc in self.routes.encoders
        }
        self._dense = self._spaces[encoder.name]
        # Only texts in languages the model knows get a vector; the others would only add noise and time.
        self._dense_langs = [lang for lang in self._rows.lang if lang in settings.model_langs]
        self._bm25 = BM25(stride=self._rows.stride)
        self.model_loader: Any = None  # the thread loading the model beside a running service (assist.services)
        self.cache: Any = None  # where `refresh` finds and keeps vectors (set by `build`)
        self.skipped: dict[int, dict[str, Any]] = {}  # phrase id -> why it is not indexed (shown by /api/health)

    # ---- building and updating ------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._rows.active.sum())

    def vectors_for(
        self,
        texts: Sequence[str],
        cache: Any = None,
        progress: Progress | None = None,
        queries: bool = False,
        encoder: Encoder | None = None,
    ) -> np.ndarray:
        """Embeddings of texts by `encoder` (the default one unless given), from the store's cache where present;
        new ones are encoded and cached. `queries` embeds them as customer messages (a phrase's examples),
        cached under the encoder's query key."""
        enc = encoder or self.encoder
        if not texts:
            return np.zeros((0, enc.dim), dtype=np.float32)
        hashes = [text_hash(t) for t in texts]
        model = query_cache_name(enc) if queries else cache_name(enc)
        cached = cache.cached_vectors(model, hashes) if cache is not None else {}
        missing = [i for i, h in enumerate(hashes) if h not in cached]
        out = np.zeros((len(texts), enc.dim), dtype=np.float32)
        for i, h in enumerate(hashes):
            if h in cached:
                out[i] = np.frombuffer(cached[h], dtype=np.float32)
        if missing:
            todo = [texts[i] for i in missing]
            if queries:
                encoded = _encode_queries(enc, todo, progress)
            else:
                encoded = enc.encode(todo, progress=progress)
            out[missing] = encoded
            if cache is not None:
                cache.save_vectors(
                    model,
                    enc.dim,
                    {hashes[i]: encoded[j].tobytes() for j, i in enumerate(missing)},
                )
        return out

    def upsert(self, phrases: Sequence[dict[str, Any]], cache: Any = None, progress: Progress | None = None) -> None:
        """Add or replace phrases (as the store returns them). Only approved ones stay searchable.

        A phrase is found by its texts and by its examples (customer messages it answers): each is its own
        vector and its own lexical document, and the phrase scores by the best of them."""
        todo: list[tuple[int, str, str]] = []  # (dense id, text, its language)
        todo_examples: list[tuple[int, str, str]] = []
        with self._lock:
            for p in phrases:
                row = self._rows.row_for(p["id"])
                for space in self._spaces.values():
                    space.remove(self._rows.dense_ids(row))
                if p["status"] != "approved":
                    self._rows.clear(row)
                    self._bm25.remove_row(row)
                    continue
                try:
                    self._rows.set(row, p)
                    # Both Chinese scripts normalize to one Simplified text: index it once.
                    texts = dict.fromkeys(self._languages.normalize(t) for t in p["text"].values())
                    examples = [(lang, e) for lang, es in (p.get("examples") or {}).items() for e in es]
                    documents = [[t for text in texts for t in tokens(text)]]
                    documents += [tokens(self._languages.normalize(e)) for _, e in examples]
                    self._bm25.set_row(row, documents)
                except Exception as exc:  # one bad phrase must not stop the index (or start-up)
                    self._rows.clear(row)
                    self._bm25.remove_row(row)
                    reason = f"{type(exc).__name__}: {exc}"[:200]
                    logger.warning("search index: phrase %s (%s) skipped: %s", p.get("id"), p.get("key"), reason)
                    self.skipped[p["id"]] = {"id": p["id"], "key": p.get("key"), "reason": reason}
                    continue
                self.skipped.pop(p["id"], None)
                todo.extend(
                    (self._rows.text_id(row, lang), p["text"][lang], lang)
                    for lang in self._dense_langs
                    if lang in p["text"]
                )
                todo_examples.extend(
                    (self._rows.example_id(row, place), e, lang)
                    for place, (lang, e) in enumerate(examples)
                    if lang in self._dense_langs
                )
        for enc in self.routes.encoders:  # each encoder's texts into its own space
            mine = [(i, t) for i, t, lang in todo if self.routes.for_lang(lang) is enc]
            mine_examples = [(i, t) for i, t, lang in todo_examples if self.routes.for_lang(lang) is enc]
            vectors = self.vectors_for([t for _, t in mine], cache, progress, encoder=enc)
            example_vectors = self.vectors_for([t for _, t in mine_examples], cache, progress, True, enc)
            with self._lock:
                space = self._spaces[enc.name]
                space.add(np.array([i for i, _ in mine], dtype=np.int64), vectors)
                space.add(np.array([i for i, _ in mine_examples], dtype=np.int64), example_vectors)

    def remove(self, phrase_ids: Sequence[int]) -> None:
        with self._lock:
            for pid in phrase_ids:
                row = self._rows.ids.get(pid)
                if row is not None:
                    for space in self._spaces.values():
                        space.remove(self._rows.dense_ids(row))
                    self._bm25.remove_row(row)
                    self._rows.clear(row)

    @classmethod
    def build(
        cls,
        store: Any,
        encoder: Encoder,
        settings: RetrievalSettings,
        progress: Progress | None = None,
        cache: Any = None,
        lang_encoders: dict[str, Encoder] | None = None,
    ) -> HybridSearcher:
        """Index the store's approved phrases, their vectors from `cache` (assist.bank.vectors.VectorCache; by
        default one on the store's database). Later changes arrive through `refresh` (assist.bank.notices).
        `lang_encoders`: languages read by another encoder than `encoder` (assist.retrieval.routing)."""
        if cache is None:
            from assist.bank.vectors import VectorCache

            cache = VectorCache(store.db)
        searcher = cls(encoder, settings, lang_encoders=lang_encoders)
        searcher.cache = cache
        searcher.upsert(store.records(statuses=["approved"]), cache=cache, progress=progress)
        return searcher

    def refresh(self, store: Any, phrase_ids: Sequence[int]) -> None:
        """Re-read changed phrases from the store and update their rows (vectors through `self.cache`)."""
        records = store.records(phrase_ids)
        self.upsert(records, cache=self.cache)
        found = {p["id"] for p in records}
        self.remove([pid for pid in phrase_ids if pid not in found])

    def resync(self, store: Any) -> None:
        """Re-read every phrase of the store (after notices may have been lost): changed ones are updated,
        vanished ones removed; vectors come from `self.cache`."""
        records = store.records()
        self.upsert(records, cache=self.cache)
        found = {p["id"] for p in records}
        with self._lock:
            held = list(self._rows.ids)
        self.remove([pid for pid in held if pid not in found])

    # ---- searching --------------------------------------------------------------------------------

    def query_encoder(self, text: str) -> Encoder:
        """The encoder of a customer message (its detected language's, assist.retrieval.routing)."""
        return self.routes.for_text(text)

    def encode_query(self, text: str) -> np.ndarray:
        return encode_queries(self.query_encoder(text), [text])[0]

    def _dense_weight(self, lang: str, text: str | None = None) -> float:
        """The dense channel's weight for a language; 0 while the model that encodes the message (`text`'s, else
        the language's) is still loading."""
        enc = self.routes.for_text(text) if text is not None else self.routes.for_lang(lang)
        if not getattr(enc, "ready", True):
            return 0.0
        s = self.settings
        return s.lang_dense_weight.get(lang, s.dense_weight) if lang in s.model_langs else s.foreign_dense_weight

    def uses_dense(self, lang: str, text: str | None = None) -> bool:
        """Whether a reranked search in this language (of this message) reads the dense channel (so needs a query
        vector)."""
        return self._dense_weight(lang, text) > 0

    def search(self, q: Query, channel: str = "rerank") -> list[Hit]:
        """Best phrases for a query, in the query's language and script.

        Args:
            q: the customer's text and its analysis.
            channel: "dense", "lexical" or "fused" rank by that channel alone (for evaluation);
                "rerank" (the default) adds the analysis and keeps the list diverse.
        Returns:
            Up to q.k hits, best first, among the phrases `q.team` may see.
        """
        return self.search_teams(q, [q.team], channel)[q.team]

    def search_teams(
        self, q: Query, teams: Sequence[str | None], channel: str = "rerank"
    ) -> dict[str | None, list[Hit]]:
        """`search` for several teams at once: the phrases are scored once, then each team's top is cut from
        the phrases it may see."""
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}; expected one of {', '.join(CHANNELS)}")
        lang = q.lang or self._languages.detect(q.text).lang
        w = self._dense_weight(lang, q.text)
        use_dense = channel == "dense" or (channel != "lexical" and w > 0)
        vector = q.vector if q.vector is not None or not use_dense else self.encode_query(q.text)
        space = self._spaces[self.query_encoder(q.text).name]  # the space of the model that encoded the message
        with self._lock:
            rows = self._rows
            n = len(rows)
            if n == 0:
                return {team: [] for team in teams}
            dense = np.zeros(n, dtype=np.float32)
            if use_dense and vector is not None:
                ids, sims = space.search(vector, self.settings.dense_depth)
                np.maximum.at(dense, ids // self._rows.stride, np.clip(sims, 0.0, 1.0))
            lexical = normalize(self._bm25.scores(tokens(q.text), n)) if channel != "dense" else np.zeros(n)
            parts = {"dense": dense, "lexical": lexical}
            if self.settings.fusion == "rrf":
                fused = rrf(dense * (w > 0), lexical * (w < 1), depth=self.settings.dense_depth)
            else:
                fused = convex(dense, lexical, w)
            parts["fused"] = fused
            aspects: dict[tuple[int, int], float] = {}
            if channel == "rerank":
                scores = self._reranker.emotion_scores(q)
                features = self._reranker.features(q, scores, rows.sit[:n], rows.emo[:n], rows.type[:n], rows.tech[:n])
                parts.update(features)
                total = self._reranker.total(fused, features)
                aspects = diversify.aspects(q.situations, scores)
            else:  # one channel alone ranks only what it scored
                total = np.where(parts[channel] > 0, parts[channel], -np.inf)
            out = {}
            for team in dict.fromkeys(teams):
                mine, mine_parts = total, parts
                learned = q.learned.get(team) if channel == "rerank" and self.settings.w_learned > 0 else None
                if learned:  # what this team's agents chose for similar messages (assist.bank.feedback)
                    feature = self._learned(learned, n)
                    mine, mine_parts = total + self.settings.w_learned * feature, {**parts, "learned": feature}
                eligible = np.where(rows.eligible(lang, team, n), mine, -np.inf)
                out[team] = self._top(q, lang, eligible, mine_parts, channel, aspects, learned or {})
            return out

    def _learned(self, stats: dict[int, Any], n: int) -> np.ndarray:
        """Per row, the score of what agents chose for similar messages (assist.bank.feedback), in (-1, 1)."""
        out = np.zeros(n, dtype=np.float32)
        for pid, stat in stats.items():
            row = self._rows.ids.get(pid)
            if row is not None and row < n:
                out[row] = stat.score
        return out

    def _founded_first(self, q: Query, picked: list[int], ranked: list[int]) -> list[int]:
        """The suggestions with a phrase that presumes a customer type the profile has no evidence of moved off
        the first place: the best-ranked phrase without that problem leads (rerank.yml `presuming_types`)."""
        unfounded = self._reranker.unfounded(q, self._rows.type[np.array(ranked, dtype=np.int64)])
        if not unfounded[ranked.index(picked[0])]:
            return picked
        lead = next((row for row, bad in zip(ranked, unfounded, strict=True) if not bad), None)
        if lead is None:
            return picked
        return [lead, *(row for row in picked if row != lead)][: len(picked)]

    def for_situation(
        self, text: str, lang: str, situation: str | None, team: str | None = None, k: int = 3
    ) -> list[tuple[dict[str, Any], str]]:
        """Up to `k` approved phrases tagged with `situation` (any, when None) in `lang` that `team` may see,
        best lexical match to `text` first (no model: this runs on every draft): (phrase, its text in `lang`).
        Used for the rewriter's flags (assist.guard.service)."""
        from assist.retrieval.rows import SIT

        with self._lock:
            rows = self._rows
            n = len(rows)
            if n == 0:
                return []
            eligible = rows.eligible(lang, team, n)
            if situation is not None:
                bit = SIT.get(situation)
                if bit is None:
                    return []
                eligible &= ((rows.sit[:n] >> bit) & 1).astype(bool)
            lexical = self._bm25.scores(tokens(text), n)
            if situation is None:
                eligible &= lexical > 0  # no situation: only phrases that share words with the sentence
            total = np.where(eligible, lexical, -np.inf)
            order = [int(r) for r in np.argsort(-total, kind="stable")[: max(k * 4, k)] if np.isfinite(total[r])]
            hits: list[tuple[dict[str, Any], str]] = []
            seen: set[str] = set()
            for row in order:
                p = rows.phrases[row]
                assert p is not None
                phrase_text = p["text"][lang]
                if phrase_text in seen:
                    continue
                seen.add(phrase_text)
                hits.append((p, phrase_text))
                if len(hits) == k:
                    break
            return hits

    def _top(
        self,
        q: Query,
        lang: str,
        total: np.ndarray,
        parts: dict[str, np.ndarray],
        channel: str,
        aspects: dict[tuple[int, int], float],
        learned: dict[int, Any] | None = None,
    ) -> list[Hit]:
        pool = min(len(total), max(q.k * 8, 40))
        order = np.argpartition(-total, pool - 1)[:pool] if pool < len(total) else np.arange(len(total))
        order = order[np.argsort(-total[order], kind="stable")]
        ranked: list[int] = order[np.isfinite(total[order])].tolist()
        rows = self._rows
        if channel == "rerank" and aspects and self.settings.w_coverage > 0:
            idx = np.array(ranked, dtype=np.int64)
            ranked = diversify.cover(
                ranked,
                total[idx].astype(np.float32),
                rows.sit[idx],
                rows.emo[idx],
                aspects,
                q.k,
                self.settings.w_coverage,
            )
        readings = {EMOTIONS[e] for _, e in aspects}

        def phrase(row: int) -> dict[str, Any]:
            p = rows.phrases[row]
            assert p is not None
            return p

        picked = diversify.select(
            ranked,
            lambda row: phrase(row)["text"][lang],
            lambda row: phrase(row)["technique"],
            q.k,
            diverse=channel == "rerank",
        )
        if channel == "rerank" and picked:
            picked = self._founded_first(q, picked, ranked)
        hits: list[Hit] = []
        for row in picked:
            p = phrase(row)
            text = p["text"][lang]
            row_parts = {k: float(v[row]) for k, v in parts.items()}
            hits.append(
                Hit(
                    phrase=p,
                    text=text,
                    score=round(float(total[row]), 4),
                    reasons=explain.reasons(q, p, text, row_parts, readings, (learned or {}).get(p["id"])),
                    parts=row_parts,
                )
            )
        return hits


def _encode_queries(encoder: Encoder, texts: Sequence[str], progress: Progress | None) -> np.ndarray:
    """Customer messages' vectors in batches, reporting progress (encode_queries itself reports none)."""
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    step = 64
    for start in range(0, len(texts), step):
        out[start : start + step] = encode_queries(encoder, texts[start : start + step])
        if progress is not None:
            progress(min(start + step, len(texts)), len(texts))
    return out
