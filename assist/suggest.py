"""Suggester: a customer message (or a conversation) in, ranked empathetic replies from the bank out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from assist.bank.feedback import FeedbackMemory, query_model
from assist.lang import CACHED_CHARS
from assist.retrieval.searcher import HybridSearcher, Query
from assist.retrieval.situation import detect_situations
from assist.retrieval.slots import extract_slots, fill
from assist.schemas import Analysis, ProfileDimension, Situation, Suggestion, SuggestResult

# A follow-up like "那要多久" inherits the situations of earlier customer messages, discounted; a message
# with a topic of its own ("那就这样吧" after a delay) keeps the earlier ones further behind.
CARRY_OVER = 0.6
CARRY_BESIDE_OWN = 0.5
CARRY_TURNS = 3


class AnalyzerLike(Protocol):
    def message_analysis(self, text: str) -> Analysis: ...

    def conversation_analysis(self, turns: Sequence[Mapping[str, Any]]) -> Analysis: ...


def profile_labels(customer: Mapping[str, ProfileDimension]) -> dict[str, float]:
    """`{"dimension:label": confidence}` for the known dimensions of an analysis' customer profile."""
    return {
        f"{dim}:{value.label}": float(value.confidence or 0.0)
        for dim, value in customer.items()
        if value.label and value.label != "unknown"
    }


# A customer message is read for situations when it arrives and again as an earlier message for the next
# CARRY_TURNS ones; short messages (CACHED_CHARS, assist.lang) keep what was found.


@lru_cache(maxsize=4096)
def _detected(text: str, lang: str) -> tuple[tuple[float, dict[str, Any]], ...]:
    return tuple((h.score, h.as_dict()) for h in detect_situations(text, lang))


def _situations(text: str, lang: str) -> list[tuple[float, dict[str, Any]]]:
    """(raw score, situation dict) per situation of a message; fresh dicts on every call."""
    if len(text) <= CACHED_CHARS:
        return [(score, {**d, "evidence": [dict(e) for e in d["evidence"]]}) for score, d in _detected(text, lang)]
    return [(h.score, h.as_dict()) for h in detect_situations(text, lang)]


def situations_in_context(
    text: str,
    lang: str,
    earlier: Sequence[str],
    own: Sequence[Mapping[str, Any]] | None = None,
    own_weight: float = 1.0,
) -> list[dict[str, Any]]:
    """Situations of the latest customer message; earlier customer messages (newest first) add theirs,
    discounted, so a short follow-up keeps its topic; its own situations lead when it has any. `own`, when
    given, are the message's own situations as the analysis read them (the learned model fused with the cue
    patterns): each situation then scores `own_weight` × that reading + (1 − `own_weight`) × the cue patterns'."""
    found = {d["situation"]: d for _, d in _situations(text, lang)}
    if own is not None:
        cues = {name: float(d["score"]) for name, d in found.items()}
        read = {d["situation"]: float(d["score"]) for d in own}
        evidence = {d["situation"]: list(d["evidence"]) for d in own}
        found = {}
        for name in dict.fromkeys([*read, *cues]):
            score = round(own_weight * read.get(name, 0.0) + (1 - own_weight) * cues.get(name, 0.0), 3)
            if score > 0:
                found[name] = {"situation": name, "score": score, "evidence": evidence.get(name, [])}
    factor = CARRY_BESIDE_OWN if found else 1.0
    for previous in earlier[:CARRY_TURNS]:
        factor *= CARRY_OVER
        for raw, d in _situations(previous, lang):
            score = round(raw * factor, 3)
            if d["situation"] not in found or found[d["situation"]]["score"] < score:
                found[d["situation"]] = {**d, "score": score, "from_earlier": True}
    return sorted(found.values(), key=lambda s: -s["score"])


class Suggester:
    def __init__(
        self, analyzer: AnalyzerLike, searcher: HybridSearcher, top_k: int = 5, memory: FeedbackMemory | None = None
    ) -> None:
        self.analyzer = analyzer
        self.searcher = searcher
        self.top_k = top_k
        self.memory = memory  # agents' feedback: used / dismissed for similar messages (assist.bank.feedback)

    def learned(
        self, text: str, teams: Sequence[str | None], vector: np.ndarray | None
    ) -> tuple[dict[str | None, dict[int, Any]], np.ndarray | None]:
        """Per team, what its agents chose for messages like this one (teams with feedback only), and the
        message's vector (encoded here when the caller had none, a team has feedback and the model is ready)."""
        memory = self.memory
        if memory is None or not memory.learning or self.searcher.settings.w_learned <= 0:
            return {}, vector
        encoder = self.searcher.query_encoder(text)  # the model of the message's vector (an encoder per language)
        model = query_model(encoder)
        teams = [team for team in dict.fromkeys(teams) if memory.has(team, model)]
        if not teams:
            return {}, vector
        if vector is None:
            if not getattr(encoder, "ready", True):
                return {}, vector
            vector = self.searcher.encode_query(text)
        return {team: found for team in teams if (found := memory.neighbours(team, vector, model=model))}, vector

    def suggest(
        self,
        text: str | None = None,
        conversation: Sequence[Mapping[str, Any]] | None = None,
        k: int | None = None,
        team: str | None = None,
        context: Mapping[str, str] | None = None,
        channel: str = "rerank",
    ) -> SuggestResult:
        """Analyse a message or a conversation and rank replies for its latest customer message."""
        if conversation is not None:
            analysis = self.analyzer.conversation_analysis(conversation)
            customer_texts = [t["text"] for t in conversation if t.get("role") == "customer"]
        else:
            analysis = self.analyzer.message_analysis(text or "")
            customer_texts = [text or ""]
        latest = customer_texts[-1] if customer_texts else ""
        return self.for_analysis(
            latest, analysis, customer_texts[-2::-1], k=k, team=team, context=context, channel=channel
        )

    def for_analysis(
        self,
        text: str,
        analysis: Analysis,
        earlier: Sequence[str] = (),
        k: int | None = None,
        team: str | None = None,
        context: Mapping[str, str] | None = None,
        vector: np.ndarray | None = None,
        channel: str = "rerank",
    ) -> SuggestResult:
        """Rank replies for a customer message already analysed (the live hub keeps the analysis).

        Args:
            text: the latest customer message.
            analysis: its analysis (lang, emotion, customer profile, ...).
            earlier: earlier customer messages, newest first (topic carry-over, slot values).
            k: how many suggestions; settings' top_k by default.
            team: the agent's team, for team-scoped phrases.
            context: known slot values, e.g. {"customer_name": "王先生"}; they win over extracted ones.
            vector: the message's embedding if already computed (micro-batching).
            channel: "rerank" normally; "dense", "lexical" or "fused" for evaluation.
        Returns:
            the language, situations and analysis of the message, and the ranked replies.
        """
        return self.for_teams(text, analysis, earlier, [team], k=k, context=context, vector=vector, channel=channel)[
            team
        ]

    def for_teams(
        self,
        text: str,
        analysis: Analysis,
        earlier: Sequence[str],
        teams: Sequence[str | None],
        k: int | None = None,
        context: Mapping[str, str] | None = None,
        vector: np.ndarray | None = None,
        channel: str = "rerank",
    ) -> dict[str | None, SuggestResult]:
        """`for_analysis` for every team watching a conversation: situations, slots and the phrases' scores are
        worked out once; each team's list is cut from the phrases it may see."""
        lang = analysis.lang or "en"
        weight = float(getattr(self.searcher.settings, "learned_situations", 0.0))
        situations = situations_in_context(text, lang, earlier, self._learned_situations(analysis), weight)
        learned: dict[str | None, dict[int, Any]] = {}
        if channel == "rerank":
            learned, vector = self.learned(text, teams, vector)
        query = Query(
            text=text,
            lang=lang,
            situations={s["situation"]: s["score"] for s in situations},
            emotion=analysis.emotion.label,
            emotion_scores=dict(analysis.emotion.scores),
            customer_types=profile_labels(analysis.customer),
            team=None,
            k=k or self.top_k,
            vector=vector,
            learned=learned,
        )
        values = {**extract_slots([text, *earlier]), **{k_: v for k_, v in (context or {}).items() if v}}
        found = [Situation.model_validate(s) for s in situations]
        return {
            team: SuggestResult(lang=lang, situations=found, analysis=analysis, items=self._items(hits, values))
            for team, hits in self.searcher.search_teams(query, teams, channel).items()
        }

    def _learned_situations(self, analysis: Analysis) -> list[Mapping[str, Any]] | None:
        """The message's situations as the learned model read them (fused with the cue patterns), when it did
        and the settings use them; None: the cue patterns alone."""
        if not getattr(self.searcher.settings, "learned_situations", 0.0):
            return None
        read: list[Mapping[str, Any]] = [dict(s) for s in analysis.situations]
        if not read or any(s.get("source") != "model+cues" for s in read):
            return None
        return read

    @staticmethod
    def _items(hits: Sequence[Any], values: Mapping[str, str]) -> list[Suggestion]:
        items = []
        for hit in hits:
            filled, missing = fill(hit.text, values)
            p = hit.phrase
            items.append(
                Suggestion(
                    phrase_id=p["id"],
                    key=p["key"],
                    text=filled,
                    template=hit.text,
                    slots=missing,
                    score=hit.score,
                    situations=p["situations"],
                    emotions=p["emotions"],
                    customer_types=p["customer_types"],
                    technique=p["technique"],
                    source=p["source"],
                    reasons=hit.reasons,
                )
            )
        return items
