"""Issue 17, item 20: the OpenAPI schema and the docs agree with what the service answers (error codes, the 422
shape, close codes)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

import assist.app  # noqa: F401 - imports every module that defines an error
from assist.errors import AssistError, ErrorBody

ROOT = Path(__file__).resolve().parents[2]
API_MD = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
PROTOCOL_MD = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
SOURCES = {p: p.read_text(encoding="utf-8") for p in (ROOT / "assist").rglob("*.py")}


def _subclasses(cls: type) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub, *_subclasses(sub)}
    return out


def test_every_rest_error_code_is_in_the_api_docs() -> None:
    codes = {c.code for c in _subclasses(AssistError)} | {"validation_error", "method_not_allowed"}
    table = API_MD.split("## Errors", 1)[1].split("## Endpoints", 1)[0]
    missing = sorted(code for code in codes if f"`{code}`" not in table)
    assert not missing, f"docs/api.md's error table lacks {missing}"
    statuses = {c.status for c in _subclasses(AssistError)}
    assert all(f"| {s} |" in table for s in statuses), statuses


def test_every_frame_error_code_is_in_the_protocol_docs() -> None:
    pattern = re.compile(r"""(?:FrameError|error)\(\s*"([a-z_]+)\"""")
    codes = {code for text in SOURCES.values() for code in pattern.findall(text)}
    codes |= {c.code for c in _subclasses(AssistError)} & {"busy", "shutting_down", "unknown_conversation"}
    assert {"invalid_frame", "frame_too_large", "forbidden"} <= codes
    section = PROTOCOL_MD.split("## Errors and closing", 1)[1]
    missing = sorted(code for code in codes if f"`{code}`" not in section)
    assert not missing, f"docs/protocol.md lacks the frame error codes {missing}"


def test_every_close_code_is_in_the_protocol_docs() -> None:
    used = {
        int(c) for text in SOURCES.values() for c in re.findall(r"WS_(\d{4})_|close\((\d{4})\)", text) for c in c if c
    }
    used |= {1007, 1009, 1011}  # sent by the ASGI server: invalid UTF-8, a frame over ws_max_size, a crash
    paragraph = PROTOCOL_MD.split("Close codes:", 1)[1].split("\n## ", 1)[0]
    missing = sorted(code for code in used if f"**{code}**" not in paragraph)
    assert not missing, f"docs/protocol.md's close codes lack {missing}"


def test_openapi_documents_the_gate_answers(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, item in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, op in item.items():
            if method in ("post", "put", "patch"):
                for status in ("401", "403", "413", "422"):
                    schema = op["responses"][status]["content"]["application/json"]["schema"]
                    assert schema["$ref"].endswith("/ErrorBody"), (method, path, status)


def test_answers_match_the_documented_error_body(client: TestClient) -> None:
    answers = [
        client.post("/api/suggest", json={"text": 5}),  # 422 validation_error
        client.post("/api/phrases", json={"key": "k", "text": {"en": "a\u0000"}}),  # 422
        client.get("/api/phrases/0"),  # 422 (ids start at 1)
        client.get("/api/phrases/99"),  # 404
        client.post("/api/phrases", json=[1], headers={"origin": "https://evil.example"}),  # 403 from the gate
        client.delete("/api/phrases"),  # 405
    ]
    for r in answers:
        assert r.status_code >= 400
        body = ErrorBody.model_validate(r.json())
        if body.code == "validation_error":
            assert isinstance(body.detail, list)
            assert all(set(e) == {"loc", "msg", "type"} for e in body.detail), body.detail
        else:
            assert isinstance(body.detail, str) and body.detail
