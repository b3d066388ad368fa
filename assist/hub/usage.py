"""Phrase usage from live conversations: `shown` counted in memory and written in one transaction now and then;
`used` and `dismissed` written as they come, once per message, phrase and agent (a repeated frame counts once)."""

from __future__ import annotations

from collections import Counter, OrderedDict
from typing import Any

from anyio import to_thread

from assist.errors import AssistError
from assist.protocol import ServerFrame, SuggestionsOut

REMEMBERED = 50_000  # (conversation, message, phrase, agent, action) keys kept to drop repeats


class UsageCounter:
    def __init__(self, usage: Any) -> None:
        self.usage = usage  # assist.bank.usage.UsageStore
        self._counts: Counter[int] = Counter()
        self._seen: OrderedDict[tuple[str, ...], None] = OrderedDict()

    def shown(self, frame: ServerFrame) -> None:
        """A frame reached at least one agent: its suggestions count as shown, once per message and phrase (a
        message fed again under the same id does not count them again)."""
        if isinstance(frame, SuggestionsOut):
            once = (frame.conversation_id, frame.message_id, "shown")
            self._counts.update(item.phrase_id for item in frame.items if self._first((*once, str(item.phrase_id))))

    def _first(self, key: tuple[str, ...]) -> bool:
        if key in self._seen:
            return False
        self._seen[key] = None
        while len(self._seen) > REMEMBERED:
            self._seen.popitem(last=False)
        return True

    async def feedback(self, phrase_id: int, action: str, once_per: tuple[str, ...]) -> bool:
        """Record an agent's `used`/`dismissed`, unless the same key (conversation, message, agent) already did;
        whether it counted."""
        if not self._first((*once_per, str(phrase_id), action)):
            return False
        await to_thread.run_sync(self.usage.record, phrase_id, "dismissed" if action == "dismissed" else "used")
        return True

    async def flush(self) -> None:
        """Write the batched `shown` counts (one transaction for all phrases); kept for the next flush on error."""
        if not self._counts:
            return
        counts, self._counts = self._counts, Counter()
        try:
            await to_thread.run_sync(self.usage.record_many, {(pid, "shown"): n for pid, n in counts.items()})
        except AssistError:
            self._counts.update(counts)
            raise
