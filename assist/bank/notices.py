"""Bank-change notices between instances: an edit on one refreshes the search index on all of them."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from typing import Any

from anyio import to_thread

from assist.bank.store import PhraseStore
from assist.broker import Broker

logger = logging.getLogger(__name__)


async def follow_bank_changes(broker: Broker, prefix: str, store: PhraseStore, searcher: Any) -> asyncio.Task[None]:
    """Publish this instance's phrase changes and apply the other instances' ones; returns the listening task.

    The local index already follows local changes (store.on_change); a notice from another instance
    makes this one re-read those phrases from the shared store.
    """
    loop = asyncio.get_running_loop()
    origin = secrets.token_hex(6)
    channel = f"{prefix}:bank"

    def announce(ids: Sequence[int]) -> None:  # called after a commit, from whatever thread wrote it
        notice = {"origin": origin, "ids": list(ids)}
        loop.call_soon_threadsafe(lambda: loop.create_task(_publish(broker, channel, notice)))

    store.on_change(announce)
    ready = asyncio.Event()

    async def listen() -> None:
        async with broker.subscribe(channel) as notices:
            ready.set()
            async for notice in notices:
                if notice.get("origin") != origin and notice.get("ids"):
                    try:
                        await to_thread.run_sync(searcher.refresh, store, notice["ids"])
                    except Exception:
                        logger.exception("bank notice: refreshing %d phrases failed", len(notice["ids"]))

    task = loop.create_task(listen())
    await ready.wait()
    return task


async def _publish(broker: Broker, channel: str, notice: dict[str, Any]) -> None:
    try:
        await broker.publish(channel, notice)
    except Exception:  # the broker is down: other instances catch up on their next restart
        logger.exception("bank notice: could not publish a change of %d phrases", len(notice["ids"]))
