"""Retrieval fixtures: the real bundled MiniLM model, loaded once per test session, and settings for it (the
default encoder is e5 since issue 14; these tests keep the English-only MiniLM they were written for)."""

from __future__ import annotations

from typing import Any

import pytest

from assist.config import RetrievalSettings
from assist.retrieval.embedder import Embedder, shared_embedder

MINILM = "bundled:all-MiniLM-L6-v2"


def minilm(**overrides: Any) -> RetrievalSettings:
    """Retrieval settings for MiniLM as it shipped before e5: English in the dense channel, one dense weight."""
    fields: dict[str, Any] = {"model_name": MINILM, "model_langs": ["en"], "lang_dense_weight": {}}
    return RetrievalSettings(**(fields | overrides))


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    encoder = shared_embedder(MINILM)
    assert isinstance(encoder, Embedder)
    return encoder
