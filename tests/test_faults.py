"""Faults with real services: Redis restarted mid-conversation, PostgreSQL gone during writes, an instance
stopped or killed."""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from assist.config import Settings
from tests.live import free_port, live_server, serve_process, wait_health
from tests.redis_server import RedisServer, own_redis, redis_server_available
from tests.test_broker import linked

pytestmark = [pytest.mark.live]


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """Redis of this test's own on a free port: these tests stop or kill things, never the machine's 6379."""
    if not redis_server_available():
        pytest.skip("redis-server is not installed")
    with own_redis(tmp_path / "redis") as server:
        yield server


@pytest.mark.postgres
@pytest.mark.asyncio
async def test_redis_restart_mid_conversation(fresh_postgres: str, tmp_path: Path, redis_server: RedisServer) -> None:
    from websockets.asyncio.client import connect

    prefix, cid = f"test-{secrets.token_hex(4)}", "fault-1"

    async def next_message(ws) -> dict:  # type: ignore[no-untyped-def]
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if frame["type"] == "message":
                return frame

    with (
        live_server(linked(tmp_path, "a", fresh_postgres, prefix, redis_server.url)) as a,
        live_server(linked(tmp_path, "b", fresh_postgres, prefix, redis_server.url)) as b,
    ):
        async with connect(b.ws) as agent, httpx.AsyncClient() as http:
            await agent.recv()
            await agent.send(json.dumps({"type": "subscribe", "conversation_id": cid}))
            await agent.recv()
            url = f"{a.http}/api/conversations/{cid}/messages"
            assert (await http.post(url, json={"role": "customer", "text": "where is my order?"})).status_code == 200
            assert (await next_message(agent))["message"]["message_id"] == "m1"
            await asyncio.to_thread(redis_server.restart)
            statuses = []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                r = await http.post(url, json={"role": "customer", "text": "hello?? still waiting"})
                statuses.append(r.status_code)
                if r.status_code == 200:
                    break
                assert r.status_code == 503 and r.json()["code"] == "broker_unavailable"
                await asyncio.sleep(0.2)
            assert statuses[-1] == 200
            frame = await next_message(agent)  # events resume on the other instance
            assert frame["message"]["message_id"] == "m2"  # A put the lost conversation back
            state = (await http.get(f"{b.http}/api/conversations/{cid}")).json()
            assert [m["message_id"] for m in state["messages"]] == ["m1", "m2"]


@pytest.mark.postgres
def test_redis_down_health_says_so_and_bank_changes_still_reach_the_other_instance(
    fresh_postgres: str, tmp_path: Path, redis_server: RedisServer
) -> None:
    prefix = f"test-{secrets.token_hex(4)}"
    body = {"key": "outage.1", "text": {"en": "We fixed it during the outage."}, "situations": ["defect"]}
    with (
        live_server(linked(tmp_path, "a", fresh_postgres, prefix, redis_server.url)) as a,
        live_server(linked(tmp_path, "b", fresh_postgres, prefix, redis_server.url)) as b,
        httpx.Client() as http,
    ):
        assert http.get(f"{a.http}/api/health").status_code == 200
        redis_server.stop()
        health = http.get(f"{a.http}/api/health")
        assert health.status_code == 503 and health.json()["code"] == "broker_unavailable"
        created = http.post(f"{a.http}/api/phrases", json={**body, "status": "approved"})
        assert created.status_code == 201  # the store is up: the change is kept
        redis_server.start()
        deadline, found = time.monotonic() + 30, False
        while not found and time.monotonic() < deadline:
            time.sleep(0.5)
            r = http.post(f"{b.http}/api/suggest", json={"text": "fixed during the outage", "k": 10})
            found = r.status_code == 200 and any(i["key"] == "outage.1" for i in r.json()["items"])
        assert found  # the notice was published once Redis was back
        assert http.get(f"{a.http}/api/health").status_code == 200


@pytest.mark.postgres
def test_postgres_down_new_sockets_still_get_hello(proxied_postgres: tuple[str, Proxy], tmp_path: Path) -> None:
    from websockets.sync.client import connect

    url, proxy = proxied_postgres
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=url, seed_phrasebank=False)  # type: ignore[call-arg]
    with live_server(settings) as server:
        proxy.cut()
        with connect(server.ws) as ws:
            hello = json.loads(ws.recv(timeout=30))
            assert hello["type"] == "hello" and hello["auth"] == "required"  # open access cannot be confirmed
            ws.send(json.dumps({"type": "auth", "token": "aa_whatever", "id": "a"}))
            reply = json.loads(ws.recv(timeout=30))
            assert reply["code"] == "store_unavailable" and reply["ref"] == "a"
            ws.send(json.dumps({"type": "ping", "id": "p"}))
            assert json.loads(ws.recv(timeout=30))["type"] == "pong"  # still open
        proxy.restore()


class Proxy:
    """A TCP proxy to PostgreSQL that a test can cut, as a database host going away would."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.open = True
        self._sockets: list[socket.socket] = []
        self._server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self) -> None:
        self.open = False
        for s in self._sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._sockets.clear()

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self._server.close()


@pytest.fixture
def proxied_postgres(fresh_postgres: str) -> Iterator[tuple[str, Proxy]]:
    url = make_url(fresh_postgres)
    proxy = Proxy((url.host or "127.0.0.1", url.port or 5432))
    yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy
    proxy.close()


@pytest.mark.postgres
def test_postgres_gone_during_writes_gives_503_and_writes_nothing(
    proxied_postgres: tuple[str, Proxy], tmp_path: Path
) -> None:
    url, proxy = proxied_postgres
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=url, seed_phrasebank=False)  # type: ignore[call-arg]
    with live_server(settings) as server, httpx.Client(base_url=server.http) as http:
        body = {"key": "pg.1", "text": {"en": "We'll fix it today."}, "situations": ["defect"], "status": "approved"}
        assert http.post("/api/phrases", json=body).status_code == 201
        proxy.cut()
        rows = "".join(json.dumps({**body, "key": f"pg.batch.{n}"}) + "\n" for n in range(50))
        r = http.post("/api/phrases/import", files={"file": ("bank.jsonl", rows.encode())})
        assert r.status_code == 503 and r.json()["code"] == "store_unavailable"
        r = http.post("/api/phrases", json={**body, "key": "pg.2"})
        assert r.status_code == 503 and r.json()["code"] == "store_unavailable"
        assert http.get("/api/health").status_code == 503
        proxy.restore()
        deadline = time.monotonic() + 15
        while http.get("/api/health").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        keys = [p["key"] for p in http.get("/api/phrases", params={"limit": 500}).json()["data"]]
        assert keys == ["pg.1"]  # nothing of the failed import or create was written
        assert http.post("/api/phrases", json={**body, "key": "pg.2"}).status_code == 201


@pytest.mark.postgres
@pytest.mark.asyncio
async def test_instance_gone_agent_resyncs_on_another(
    fresh_postgres: str, tmp_path: Path, redis_server: RedisServer
) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    prefix, cid = f"test-{secrets.token_hex(4)}", "fault-3"
    with live_server(linked(tmp_path, "b", fresh_postgres, prefix, redis_server.url)) as b:
        with live_server(linked(tmp_path, "a", fresh_postgres, prefix, redis_server.url)) as a:
            async with connect(a.ws) as agent:
                await agent.recv()
                await agent.send(json.dumps({"type": "subscribe", "conversation_id": cid}))
                await agent.recv()
                r = httpx.post(
                    f"{b.http}/api/conversations/{cid}/messages",
                    json={"role": "customer", "text": "my refund is late!!"},
                )
                assert r.status_code == 200
                a.stop()  # the agent's instance goes away
                with pytest.raises(ConnectionClosed):
                    while True:
                        await asyncio.wait_for(agent.recv(), 30)
        async with connect(b.ws) as agent:  # the sidebar reconnects, through the balancer, to B
            await agent.recv()
            await agent.send(json.dumps({"type": "subscribe", "conversation_id": cid}))
            state = json.loads(await agent.recv())["state"]
            assert [m["text"] for m in state["messages"]] == ["my refund is late!!"]
            assert state["analysis"]["lang"] == "en" and state["suggestions"] is not None


def linked_process(
    tmp_path: Path, name: str, database_url: str, prefix: str, redis_url: str
) -> tuple[subprocess.Popen[str], str]:
    """`assist serve` as its own process, linked through PostgreSQL and Redis, answering."""
    proc, base = serve_process(
        {
            "ASSIST_DATA_DIR": str(tmp_path / name),
            "ASSIST_DATABASE_URL": database_url,
            "ASSIST_BROKER_URL": redis_url,
            "ASSIST_BROKER_PREFIX": prefix,
            "ASSIST_SEED_PHRASEBANK": "false",
            "ASSIST_LOG_LEVEL": "WARNING",
        }
    )
    wait_health(proc, base, 120)
    return proc, base


@pytest.mark.postgres
@pytest.mark.asyncio
async def test_instance_killed_agent_resyncs_on_another(
    fresh_postgres: str, tmp_path: Path, redis_server: RedisServer
) -> None:
    """SIGKILL, not a clean stop: nothing of the killed instance's shutdown runs; Redis holds the conversation."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    prefix, cid = f"test-{secrets.token_hex(4)}", "fault-4"
    started = [linked_process(tmp_path, name, fresh_postgres, prefix, redis_server.url) for name in ("a", "b")]
    (a, a_url), (b, b_url) = started
    try:
        async with connect(a_url.replace("http", "ws") + "/ws") as agent, httpx.AsyncClient() as http:
            await agent.recv()
            await agent.send(json.dumps({"type": "subscribe", "conversation_id": cid}))
            await agent.recv()
            for text in ("my refund is late!!", "hello?"):
                r = await http.post(
                    f"{b_url}/api/conversations/{cid}/messages", json={"role": "customer", "text": text}
                )
                assert r.status_code == 200
            a.send_signal(signal.SIGKILL)  # the agent's instance dies
            with pytest.raises(ConnectionClosed):
                while True:
                    await asyncio.wait_for(agent.recv(), 30)
        assert a.wait(10) == -signal.SIGKILL
        async with connect(b_url.replace("http", "ws") + "/ws") as agent:  # the sidebar reconnects to B
            await agent.recv()
            await agent.send(json.dumps({"type": "subscribe", "conversation_id": cid}))
            state = json.loads(await agent.recv())["state"]
            assert [m["text"] for m in state["messages"]] == ["my refund is late!!", "hello?"]
            assert state["analysis"]["lang"] == "en" and state["suggestions"] is not None
    finally:
        for proc, _ in started:
            proc.kill()
            proc.wait(10)
