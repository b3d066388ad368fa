"""Helpers shared by tests: store URLs for SQLite and the local PostgreSQL, and small builders."""

from __future__ import annotations

import os
from typing import Any

POSTGRES_ADMIN_URL = os.environ.get("ASSIST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def phrase(key: str, **fields: Any) -> dict[str, Any]:
    """A valid phrase entry with a key and sensible labels; override any field."""
    entry: dict[str, Any] = {
        "key": key,
        "text": {"zh-Hans": f"我们会为您处理好{key}。", "en": f"We'll take care of {key} for you."},
        "situations": ["delay"],
        "emotions": ["anxiety"],
        "customer_types": ["trust:skeptical"],
        "technique": "expectation_setting",
        "status": "approved",
    }
    entry.update(fields)
    return entry
