"""The pre-send check as a service: the current guard (rebuilt when rules change, here or on another instance
through the broker), the rewriter, and bank phrases for the rewriter's flags.

`GuardService.check` answers POST /api/check and the websocket draft flow; `conversation_messages` reads the
conversation from the hub: the agent's earlier replies for the must-say checks, and the script a draft that
shows none is rewritten in (`draft_lang`)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from anyio import to_thread

from assist.auth import OPEN_ACCESS, Principal
from assist.broker import Broker
from assist.errors import Forbidden, NotFound
from assist.guard.engine import Guard
from assist.guard.shipped import load_shipped
from assist.guard.store import GuardStore
from assist.lang import chinese_script
from assist.languages import detect_lang
from assist.rewrite import Rewriter
from assist.schemas.guard import CheckResult
from assist.schemas.guard import GuardHit as GuardHitOut
from assist.schemas.rewrite import RewriteResult

logger = logging.getLogger(__name__)

CHINESE = ("zh-Hans", "zh-Hant")  # the codes whose drafts may show neither script

FLAG_PHRASES = 3
NO_PHRASES = frozenset({"engine.too_long"})


class GuardService:
    def __init__(self, store: GuardStore, rewriter: Rewriter, searcher: Any = None) -> None:
        self.store = store
        self.rewriter = rewriter
        self.searcher = searcher  # HybridSearcher: bank phrases for flags (None: flags carry none)
        self.guard = Guard.build(store.active())

    def reload(self) -> None:
        """Rebuild the guard from the store's active rules (a new object: checks running keep the old one)."""
        self.guard = Guard.build(self.store.active())

    def check(
        self, text: str, lang: str = "auto", replies: Sequence[str] | None = None, team: str | None = None
    ) -> dict[str, Any]:
        """{allowed, hits, rewrite}: the guard's hits on `text` and its rewrite (flags with bank phrases)."""
        rewrite = self.rewrite(text, lang, team)
        hits = [h.as_dict() for h in self.guard.check(text, replies, team, rewrite["lang"])]
        return {"allowed": not any(h["severity"] == "block" for h in hits), "hits": hits, "rewrite": rewrite}

    def rewrite(self, text: str, lang: str = "auto", team: str | None = None) -> dict[str, Any]:
        """The rewriter's result with 2-3 bank phrases on each flag (for the flagged sentence's situation)."""
        out = self.rewriter.rewrite(text, lang).as_dict()
        self.attach_phrases(out, team)
        return out

    def attach_phrases(self, result: dict[str, Any], team: str | None = None) -> None:
        if self.searcher is None:
            return
        found: dict[str | None, list[dict[str, Any]]] = {}
        for flag in result["flags"]:
            if flag["rule"] in NO_PHRASES:
                continue
            situation = flag.get("situation")
            if situation not in found:
                hits = self.searcher.for_situation(result["original"], result["lang"], situation, team, FLAG_PHRASES)
                found[situation] = [{"id": p["id"], "key": p["key"], "text": t} for p, t in hits]
            flag["phrases"] = found[situation]


async def conversation_messages(
    hub: Any, conversation_id: str | None, viewer: Principal
) -> list[tuple[str, str]] | None:
    """(role, text) of the messages held for a conversation, oldest first, as `viewer` may see it; None without
    an id or for a conversation the hub does not hold (the must-say checks that need history are then skipped,
    and a draft's script is its own). A conversation of another team raises Forbidden (assist.hub's access
    check)."""
    if not conversation_id:
        return None
    try:
        state = await hub.state(conversation_id, viewer)
    except NotFound:
        return None
    return [(m.role, m.text) for m in state.messages]


def replies_of(messages: Sequence[tuple[str, str]]) -> list[str]:
    return [text for role, text in messages if role == "agent"]


def draft_lang(text: str, messages: Sequence[tuple[str, str]] | None) -> str:
    """The language to rewrite a draft in: `auto` (the draft's own), except for a Chinese draft whose characters
    show neither script (我不知道。): then the script the conversation shows, the agent's own replies first,
    then the customer's, so a Traditional conversation's rewrite comes back in Traditional."""
    if not messages or chinese_script(text) is not None or detect_lang(text).lang not in CHINESE:
        return "auto"
    ordered = [t for role, t in reversed(messages) if role == "agent"]
    ordered += [t for role, t in reversed(messages) if role != "agent"]
    return next((script for t in ordered if (script := chinese_script(t)) is not None), "auto")


class GuardChanges:
    """Rule changes reach every instance: a change here rebuilds this instance's guard at once and is announced
    on the broker (`<prefix>:guard`); a notice from another instance rebuilds this one's from the store."""

    def __init__(self, service: GuardService, broker: Broker, prefix: str) -> None:
        self.service = service
        self.broker = broker
        self.channel = f"{prefix}:guard"
        self.origin = secrets.token_hex(6)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> asyncio.Task[None]:
        self._loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        task = self._loop.create_task(self._listen(ready))
        await ready.wait()
        self.service.store.on_change(self._changed)
        return task

    def _changed(self) -> None:  # after a commit, on the writer's thread
        self.service.reload()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._spawn)

    def _spawn(self) -> None:
        task = asyncio.get_running_loop().create_task(self._publish())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _publish(self) -> None:
        try:
            await self.broker.publish(self.channel, {"origin": self.origin})
        except Exception:  # other instances pick the change up on their next restart
            logger.exception("guard notice: could not publish a rule change")

    async def _listen(self, ready: asyncio.Event) -> None:
        async with self.broker.subscribe(self.channel) as notices:
            ready.set()
            async for notice in notices:
                if notice.get("origin") == self.origin:
                    continue
                try:
                    await to_thread.run_sync(self.service.reload)
                except Exception:
                    logger.exception("guard notice: reloading the rules failed")

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()


@asynccontextmanager
async def guard_service(
    store: GuardStore, rewriter: Rewriter, searcher: Any, broker: Broker, prefix: str, seed: bool = True
) -> AsyncIterator[GuardService]:
    """The guard for one process: shipped rules seeded (new keys only), changes followed through the broker."""
    if seed:
        store.seed(load_shipped())
    service = GuardService(store, rewriter, searcher)
    changes = GuardChanges(service, broker, prefix)
    listening = await changes.start()
    try:
        yield service
    finally:
        await changes.stop()
        listening.cancel()


async def check_draft(
    guard: GuardService | None, hub: Any, conversation_id: str, text: str, viewer: Principal | None
) -> tuple[RewriteResult, bool, list[GuardHitOut]]:
    """The websocket draft flow's answer, the same as POST /api/check: (rewrite, allowed, hits), with the
    viewer's team. Without a guard (services built without one) it is the hub's plain rewrite, allowed, no hits.
    A conversation the viewer may not see is checked without its history."""
    if guard is None:
        try:
            messages = await conversation_messages(hub, conversation_id, viewer or OPEN_ACCESS)
        except Forbidden:
            messages = None
        return await hub.rewrite(text, draft_lang(text, messages)), True, []
    viewer = viewer or OPEN_ACCESS
    team = viewer.team
    text = text[: hub.settings.max_text_chars]
    try:
        messages = await conversation_messages(hub, conversation_id, viewer)
    except Forbidden:
        messages = None
    replies = None if messages is None else replies_of(messages)
    lang = draft_lang(text, messages)
    out = await to_thread.run_sync(lambda: guard.check(text, lang, replies, team))
    result = CheckResult.model_validate(out)
    return result.rewrite, result.allowed, result.hits
