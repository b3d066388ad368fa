"""Retrieval fixtures: the real bundled model, loaded once per test session."""

from __future__ import annotations

import pytest

from assist.config import RetrievalSettings
from assist.retrieval.embedder import Embedder, shared_embedder


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return shared_embedder(RetrievalSettings().model_name)
