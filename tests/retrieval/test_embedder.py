"""The embedder's TorchScript trace: the same vectors as the eager model, and eager where it cannot be trusted."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from assist.retrieval import embedder as embedder_module
from assist.retrieval.embedder import Embedder
from tests.retrieval.conftest import MINILM

TEXTS = [
    "hi",
    "Where is my refund? I asked three times already!!",
    "我要退款",
    "The parcel arrived broken and the courier left it in the rain, I want a replacement or my money back today",
    "ok thanks",
]


@pytest.fixture(scope="module")
def eager() -> Embedder:
    return Embedder(MINILM, trace=False).load()


def test_traced_encoder_gives_the_eager_vectors(embedder: Embedder, eager: Embedder) -> None:
    assert embedder.traced and not eager.traced
    one_by_one = np.vstack([embedder.encode([t]) for t in TEXTS])
    padded = embedder.encode(TEXTS, batch_size=8)  # one batch padded to the longest text
    expected = eager.encode(TEXTS)
    assert np.abs(one_by_one - expected).max() < 1e-5
    assert np.abs(padded - expected).max() < 1e-5
    assert np.allclose(np.linalg.norm(padded, axis=1), 1.0, atol=1e-5)


def test_a_trace_that_differs_from_the_model_is_not_used(
    eager: Embedder, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(embedder_module, "TRACE_TOLERANCE", -1.0)  # no trace can agree within it
    with caplog.at_level(logging.WARNING, logger="assist.retrieval.embedder"):
        assert embedder_module._make_trace(eager._model) is None
    assert "runs eagerly" in caplog.text


def test_an_unusual_model_layout_runs_eagerly(eager: Embedder) -> None:
    from sentence_transformers.sentence_transformer.modules import Pooling

    model = eager._model
    cls_pooled = [model[0], Pooling(384, pooling_mode="cls")]  # type: ignore[index]
    assert embedder_module._make_trace(cls_pooled) is None  # refused on its layout, before any tracing
