"""How often each phrase was shown to an agent: counted in memory, written in one transaction now and then."""

from __future__ import annotations

from collections import Counter
from typing import Any

from anyio import to_thread

from assist.errors import AssistError
from assist.protocol import ServerFrame, SuggestionsOut


class ShownCounter:
    def __init__(self, usage: Any) -> None:
        self.usage = usage  # assist.bank.usage.UsageStore
        self._counts: Counter[int] = Counter()

    def count(self, frame: ServerFrame) -> None:
        """A frame reached at least one agent: its suggestions count as shown."""
        if isinstance(frame, SuggestionsOut):
            self._counts.update(item.phrase_id for item in frame.items)

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
