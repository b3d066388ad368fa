"""A rule change on one instance reaches another through the broker (memory:// here; Redis between processes)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from assist.bank.db import Database
from assist.broker import Broker
from assist.guard.schema import GuardRuleIn
from assist.guard.service import guard_service
from assist.guard.store import GuardStore
from assist.rewrite import Rewriter


@pytest.mark.asyncio
async def test_a_change_on_one_instance_rebuilds_the_others(tmp_path: Path) -> None:
    db = Database.connect(f"sqlite:///{tmp_path / 'bank.db'}")
    broker = Broker()
    rewriter = Rewriter.load()
    try:
        async with (
            guard_service(GuardStore(db), rewriter, None, broker, "t") as one,
            guard_service(GuardStore(db), rewriter, None, broker, "t") as two,
        ):
            assert two.guard.check("这是内部价", lang="zh-Hans") == []
            rule = {"key": "t.secret", "category": "secret", "phrases": ["内部价"], "why": "w", "severity": "block"}
            await asyncio.to_thread(one.store.create, GuardRuleIn.model_validate(rule), "lee")
            assert [h.rule for h in one.guard.check("这是内部价")] == ["t.secret"]  # at once where it was made
            for _ in range(100):
                if two.guard.check("这是内部价"):
                    break
                await asyncio.sleep(0.02)
            assert [h.rule for h in two.guard.check("这是内部价")] == ["t.secret"]
    finally:
        db.close()
