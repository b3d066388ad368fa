"""What the hub does with one customer message, once however many teams watch: analysis, the query vector
(micro-batched with other conversations' messages), situations and one scored ranking cut per team."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from anyio import CapacityLimiter, to_thread

from assist.bank.feedback import query_model
from assist.hub.registry import HeldConversation
from assist.retrieval.batcher import EncodeBatcher
from assist.schemas import Analysis, Message, RewriteResult, SuggestResult


class MessagePipeline:
    def __init__(self, analyzer: Any, suggester: Any, rewriter: Any = None, max_chars: int = 20_000) -> None:
        self.analyzer, self.suggester, self.rewriter, self.max_chars = analyzer, suggester, rewriter, max_chars
        searcher: Any = suggester.searcher if suggester is not None else None
        self.searcher = searcher
        # One micro-batcher per encoder (an encoder per language: assist.retrieval.routing), by model name;
        # `batcher` is the default encoder's.
        self.batchers: dict[str, EncodeBatcher] = {}
        if searcher is not None:
            for enc in searcher.routes.encoders:
                self.batchers[enc.name] = EncodeBatcher(enc, searcher.settings.encode_batch)
        self.batcher = self.batchers.get(searcher.encoder.name) if searcher is not None else None
        # Analysis and search are pure Python: threads only share the GIL. One at a time, in arrival order,
        # keeps dozens of workers from fighting over it (and the encoder's thread from waiting on them).
        self.cpu = CapacityLimiter(1)

    async def analyse(self, conv: HeldConversation, message: Message) -> Analysis | None:
        """Add the message to the conversation's analysis; what it found, for a customer's message. When the
        learned emotion and situation models run (`Analyzer.wants_vector`), the customer message is encoded
        first, once: the same vector then serves the search (`vector`) and feedback."""
        vector = None
        if (
            message.role == "customer"
            and getattr(self.analyzer, "wants_vector", False)
            and self._encoder_ready(message.text)
        ):
            vector = await self._encode(conv, message)

        def add() -> Analysis | None:
            state = conv.analysis.add(message.role, message.text, message.t, vector=vector)
            return state.to_model() if message.role == "customer" else None

        return await to_thread.run_sync(add, limiter=self.cpu)

    async def vector(self, conv: HeldConversation, message: Message, lang: str | None) -> np.ndarray | None:
        """The message's query vector, when the search reads the dense channel in its language (encoded once: the
        analysis may have asked for it already)."""
        if self.batcher is None or self.searcher is None or not self.searcher.uses_dense(lang or "en", message.text):
            return None
        known = conv.vectors.get(message.message_id)
        return known if known is not None else await self._encode(conv, message)

    def batcher_for(self, text: str) -> EncodeBatcher | None:
        """The micro-batcher of the encoder that reads this customer message (its detected language's)."""
        if self.searcher is None:
            return self.batcher
        return self.batchers.get(self.searcher.query_encoder(text).name, self.batcher)

    def _encoder_ready(self, text: str) -> bool:
        batcher = self.batcher_for(text)
        return batcher is not None and bool(getattr(batcher.encoder, "ready", True))

    async def _encode(self, conv: HeldConversation, message: Message) -> np.ndarray:
        batcher = self.batcher_for(message.text)
        assert batcher is not None
        vector = await batcher.encode(message.text)
        conv.remember_vector(message.message_id, vector)  # feedback on this message learns from it
        return vector

    async def rewrite(self, text: str, lang: str = "auto") -> RewriteResult:
        """An agent's draft, rewritten (nothing of it is kept)."""
        result = await to_thread.run_sync(self.rewriter.rewrite, text[: self.max_chars], lang)
        return RewriteResult.model_validate(result.as_dict())

    async def suggest(
        self,
        text: str,
        analysis: Analysis,
        earlier: Sequence[str],
        teams: Iterable[str | None],
        vector: np.ndarray | None = None,
    ) -> dict[str | None, SuggestResult]:
        """Suggestions for each team (as each sees the bank), from one ranking."""
        ordered = sorted(set(teams), key=lambda t: t or "")
        if not ordered or self.suggester is None:
            return {}
        run = functools.partial(self.suggester.for_teams, text, analysis, earlier, ordered, vector=vector)
        result: dict[str | None, SuggestResult] = await to_thread.run_sync(run, limiter=self.cpu)
        return result

    async def missing_suggestions(
        self, conv: HeldConversation, team: str | None
    ) -> dict[str | None, SuggestResult] | None:
        """Suggestions for the latest customer message as `team` sees the bank, when it has none yet (under the
        conversation's lock); None when nothing was missing."""
        if conv.last_customer is None or conv.last_analysis is None or team in conv.suggestions:
            return None
        earlier = list(reversed(conv.customer_texts))[1:]
        text, vector = conv.last_customer.text, conv.vectors.get(conv.last_customer.message_id)
        found = await self.suggest(text, conv.last_analysis, earlier, [team], vector)
        conv.suggestions.update(found)
        return found

    async def learn(self, conv: HeldConversation, answered: str, phrase_id: int, action: str, team: str | None) -> None:
        """Keep an agent's use or dismissal with the answered customer message's vector, so the ranking of the
        agent's team learns from it (assist.bank.feedback)."""
        memory = getattr(self.suggester, "memory", None)
        if memory is None or not memory.recording or not answered:
            return
        text = next(
            (m.text for m in reversed(conv.messages) if m.message_id == answered and m.role == "customer"), None
        )
        if text is not None:
            batcher = self.batcher_for(text)
        else:  # its text left the window: its model is known only when one model reads every language
            routed = self.searcher is not None and self.searcher.routes.routed
            batcher = None if routed else self.batcher
        vector = conv.vectors.get(answered)
        if vector is None and text is not None and batcher is not None and getattr(batcher.encoder, "ready", True):
            vector = await batcher.encode(text)  # not encoded here (another instance took it, or lexical-only)
        if vector is not None and batcher is not None:
            event = "dismissed" if action == "dismissed" else "used"
            model = query_model(batcher.encoder)  # the model that encodes this message (its language's)
            await to_thread.run_sync(
                functools.partial(memory.record, team, phrase_id, event, vector, time.time(), text, model=model)
            )
