"""Micro-batching of query encodes, with the real model."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from assist.retrieval.batcher import EncodeBatcher
from assist.retrieval.embedder import Embedder


@pytest.mark.asyncio
async def test_batcher_gives_each_text_its_own_vector(embedder: Embedder) -> None:
    batcher = EncodeBatcher(embedder, max_batch=4)
    texts = [f"where is my order number {i}?" for i in range(10)]
    vectors = await asyncio.gather(*(batcher.encode(t) for t in texts))
    expected = embedder.encode(texts)
    for got, want in zip(vectors, expected, strict=True):
        assert np.allclose(got, want, atol=1e-5)
    assert list(batcher.batches) == [4, 4, 2]  # arriving together, they go together, at most 4 at a time


@pytest.mark.asyncio
async def test_batcher_sorts_by_length_and_keeps_each_text_its_vector(embedder: Embedder) -> None:
    batcher = EncodeBatcher(embedder, max_batch=8, chunk=2)
    texts = [
        "the parcel I ordered two weeks ago for my daughter's birthday still has not arrived, what now?",
        "hi",
        "refund please",
        "why was I charged twice this month?",
        "ok",
        "where is my order?",
    ]
    vectors = await asyncio.gather(*(batcher.encode(t) for t in texts))
    for text, got in zip(texts, vectors, strict=True):
        assert np.allclose(got, embedder.encode([text])[0], atol=1e-5)


@pytest.mark.asyncio
async def test_batcher_alone_does_not_wait(embedder: Embedder) -> None:
    batcher = EncodeBatcher(embedder)
    await batcher.encode("hello")
    await batcher.encode("hello again")
    assert list(batcher.batches) == [1, 1]


@pytest.mark.asyncio
async def test_batcher_reports_a_failed_batch_to_its_waiters(embedder: Embedder) -> None:
    class Broken:
        name, dim = "broken", 3

        def encode(self, texts, batch_size=64, progress=None):  # type: ignore[no-untyped-def]
            raise RuntimeError("model gone")

    batcher = EncodeBatcher(Broken())  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="model gone"):
        await batcher.encode("x")
    assert not batcher._running  # the next encode starts a new batch


@pytest.mark.asyncio
async def test_an_encoder_with_two_engines_gets_two_batches_at_once() -> None:
    import threading
    import time

    class TwoEngines:
        name, dim, workers = "two", 3, 2

        def __init__(self) -> None:
            self.inside = 0
            self.most = 0
            self.lock = threading.Lock()

        def encode(self, texts, batch_size=64, progress=None):  # type: ignore[no-untyped-def]
            with self.lock:
                self.inside += 1
                self.most = max(self.most, self.inside)
            time.sleep(0.05)
            with self.lock:
                self.inside -= 1
            return np.array([[float(len(t)), 0.0, 0.0] for t in texts], dtype=np.float32)

    encoder = TwoEngines()
    batcher = EncodeBatcher(encoder)  # type: ignore[arg-type]
    assert batcher.workers == 2
    texts = ["a" * n for n in range(1, 11)]
    vectors = await asyncio.gather(*(batcher.encode(t) for t in texts))
    assert [int(v[0]) for v in vectors] == list(range(1, 11))  # each text its own vector
    assert encoder.most == 2 and batcher._running == 0
    assert sum(batcher.batches) == 10 and max(batcher.batches) <= 5  # what waited was shared out


@pytest.mark.asyncio
async def test_an_encoder_of_one_text_per_call_gets_the_waiting_texts_one_at_a_time() -> None:
    import time

    class OneByOne:
        name, dim, workers, one_by_one = "single", 3, 2, True

        def encode(self, texts, batch_size=64, progress=None):  # type: ignore[no-untyped-def]
            time.sleep(0.01)
            return np.array([[float(len(t)), 0.0, 0.0] for t in texts], dtype=np.float32)

    batcher = EncodeBatcher(OneByOne())  # type: ignore[arg-type]
    vectors = await asyncio.gather(*(batcher.encode("b" * n) for n in range(1, 9)))
    assert [int(v[0]) for v in vectors] == list(range(1, 9))
    assert set(batcher.batches) == {1}  # a text never waits behind another on its engine while one is free
