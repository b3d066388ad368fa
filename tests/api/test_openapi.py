"""/openapi.json documents every /api route's success body and its error shape (ErrorBody)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

METHODS = ("get", "post", "put", "patch", "delete")


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in spec["paths"].items()
        if path.startswith("/api/")
        for method, op in item.items()
        if method in METHODS
    ]


def test_every_api_route_documents_its_response_and_errors(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    ops = operations(spec)
    assert len(ops) >= 20
    for path, method, op in ops:
        where = f"{method.upper()} {path}"
        ok = next(code for code in ("200", "201", "204") if code in op["responses"])
        if ok != "204":
            content = op["responses"][ok].get("content") or {}
            schemas = [media.get("schema") for media in content.values()]
            assert schemas and all(schemas), f"{where}: its {ok} response has no schema"
            json_schema = (content.get("application/json") or {}).get("schema")
            if json_schema is not None:  # a model, not a bare object
                assert "$ref" in json_schema or json_schema.get("type") == "array", f"{where}: {json_schema}"
        for code in ("401", "422"):
            error = op["responses"][code]["content"]["application/json"]["schema"]
            assert error["$ref"].endswith("/ErrorBody"), f"{where}: {code} is not an ErrorBody"


def test_main_outputs_are_named_models(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()

    def model(path: str, method: str = "post") -> str:
        ref: str = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        return ref.rsplit("/", 1)[1]

    assert model("/api/analyze") == "Analysis"
    assert model("/api/suggest") == "SuggestResult"
    assert model("/api/rewrite") == "RewriteResult"
    assert model("/api/check") == "CheckResult"
    assert model("/api/guard/rules/{rule_id}", "get") == "GuardRuleRecord"
    assert model("/api/conversations/{conversation_id}", "get") == "ConversationOut"
    schemas = spec["components"]["schemas"]
    assert {"emotions", "other_reading", "situations", "profile_fits", "technique", "shared_terms"} <= set(
        schemas["Reasons"]["properties"]
    )
    assert "for" in schemas["Hint"]["properties"]
