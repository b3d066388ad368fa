"""A rule change on one instance reaches another through the broker: memory:// (one broker shared in-process)
and Redis (two brokers, as two processes have; the machine's Redis under a random prefix)."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import pytest

from assist.bank.db import Database
from assist.broker import Broker, create_broker
from assist.guard.schema import GuardRuleIn
from assist.guard.service import guard_service
from assist.guard.store import GuardStore
from assist.rewrite import Rewriter
from tests.test_broker import REDIS_URL, redis_or_skip


@pytest.mark.parametrize("url", ["memory://", REDIS_URL])
@pytest.mark.asyncio
async def test_a_change_on_one_instance_rebuilds_the_others(url: str, tmp_path: Path) -> None:
    if url.startswith("redis"):
        redis_or_skip()
        brokers: list[Broker] = [create_broker(url), create_broker(url)]
    else:
        shared = Broker()
        brokers = [shared, shared]
    for b in brokers:
        await b.connect()
    db = Database.connect(f"sqlite:///{tmp_path / 'bank.db'}")
    rewriter = Rewriter.load()
    prefix = f"test-{secrets.token_hex(4)}"
    try:
        async with (
            guard_service(GuardStore(db), rewriter, None, brokers[0], prefix) as one,
            guard_service(GuardStore(db), rewriter, None, brokers[1], prefix) as two,
        ):
            await asyncio.sleep(0.1)  # Redis confirms subscriptions asynchronously
            assert two.guard.check("这是内部价", lang="zh-Hans") == []
            rule = {"key": "t.secret", "category": "secret", "phrases": ["内部价"], "why": "w", "severity": "block"}
            await asyncio.to_thread(one.store.create, GuardRuleIn.model_validate(rule), "lee")
            assert [h.rule for h in one.guard.check("这是内部价")] == ["t.secret"]  # at once where it was made
            for _ in range(200):
                if two.guard.check("这是内部价"):
                    break
                await asyncio.sleep(0.02)
            assert [h.rule for h in two.guard.check("这是内部價")] == ["t.secret"]
    finally:
        db.close()
        for b in set(brokers):
            await b.disconnect()
