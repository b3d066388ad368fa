"""The composition root and its seams: build_services, create_app with given services, the fake encoder, the one
token -> principal function, and no process tuning outside `assist serve`."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from assist.app import create_app
from assist.auth import OPEN_ACCESS, TokenStore, bearer_token, principal_for
from assist.bank.schema import PhraseIn
from assist.bank.store import PhraseStore
from assist.config import Settings
from assist.errors import Unauthorized
from assist.services import build_services
from tests.fakes import HashedEncoder
from tests.utils import phrase


def test_hashed_encoder_is_deterministic_unit_vectors_of_its_size() -> None:
    enc = HashedEncoder(dim=64)
    a = enc.encode(["Where is my refund?", "我的订单还没有发货", ""])
    assert a.shape == (3, 64) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a[:2], axis=1), 1.0, atol=1e-5) and not a[2].any()
    assert np.array_equal(a, HashedEncoder(dim=64).encode(["Where is my refund?", "我的订单还没有发货", ""]))
    near, far = enc.encode(["where is my refund", "the weather is lovely today"])
    assert float(a[0] @ near) > float(a[0] @ far)
    assert enc.encode([]).shape == (0, 64)


@pytest.mark.asyncio
async def test_build_services_builds_once_and_tears_down(settings: Settings) -> None:
    encoder = HashedEncoder()
    store = PhraseStore.connect(settings.sqlalchemy_url)
    store.create(PhraseIn.model_validate(phrase("late.1")), "lead")
    store.close()
    async with build_services(settings, encoder=encoder) as services:
        assert services.suggester.searcher.encoder is encoder and len(services.suggester.searcher) == 1
        assert services.suggester.searcher.model_loader is None  # a fake encoder is ready: no model to load
        assert services.hub.usage.usage is services.usage
        assert services.usage.db is services.store.db and services.tokens.db is services.store.db
        result = await services.hub.feed("c1", "customer", "where is my order? it is late")
        assert result.message.message_id == "m1"
        assert set(services.state()) == {
            "settings",
            "store",
            "usage",
            "tokens",
            "analyzer",
            "suggester",
            "rewriter",
            "hub",
        }
        hub = services.hub
    assert hub.closing  # the exit stack shut the hub down


@pytest.mark.asyncio
async def test_given_parts_are_the_callers(settings: Settings) -> None:
    store = PhraseStore.connect(settings.sqlalchemy_url)
    try:
        async with build_services(settings, encoder=HashedEncoder(), store=store) as services:
            assert services.store is store
        assert store.records(statuses=["approved"]) == []  # still open: the caller closes it
    finally:
        store.close()


def test_create_app_serves_given_services(settings: Settings) -> None:
    import anyio

    async def main() -> None:
        async with build_services(settings, encoder=HashedEncoder()) as services:
            app = create_app(services=services)
            assert app.state.settings is settings
            async with app.router.lifespan_context(app) as state:
                assert state is not None and state["hub"] is services.hub and app.state.services is services
            assert not services.hub.closing  # the caller's to tear down, not the app's

    anyio.run(main)


def test_no_process_tuning_outside_serve(settings: Settings) -> None:
    interval = sys.getswitchinterval()
    with TestClient(create_app(settings, lambda: build_services(settings, encoder=HashedEncoder()))) as c:
        assert c.get("/api/health").status_code == 200
    assert sys.getswitchinterval() == interval and gc.get_freeze_count() == 0


def test_principal_for_is_the_one_path(tmp_path: Path) -> None:
    store = PhraseStore.connect(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        tokens = TokenStore(store)
        local = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
        public = Settings(_env_file=None, data_dir=tmp_path, host="0.0.0.0")  # type: ignore[call-arg]
        assert principal_for(local, tokens, None) is OPEN_ACCESS
        with pytest.raises(Unauthorized, match="webhook"):
            principal_for(public, tokens, None, "pass a token in the webhook URL")
        with pytest.raises(Unauthorized):
            principal_for(local, tokens, "")  # a token given, even empty, is checked
        _, secret = tokens.create("ana", "agent", "support")
        agent = principal_for(public, tokens, secret)
        assert (agent.name, agent.role, agent.team) == ("ana", "agent", "support")
        with pytest.raises(Unauthorized):
            principal_for(local, tokens, None)  # a token exists now: no open access
    finally:
        store.close()


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer aa_x", "aa_x"), ("bearer  aa_x ", "aa_x"), ("Basic aa_x", None), ("Bearer ", None), (None, None)],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token
