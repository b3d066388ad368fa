"""Fakes for tests whose subject is not the model: an encoder that is deterministic, fast and the right shape.

Inject it through the composition root: `create_app(settings, services=fake_services(settings))` or
`build_services(settings, encoder=HashedEncoder())`. Tests where the model is the subject (tests/retrieval's
embedder and eval-set tests, the shipped-bank API tests, live servers) keep the real model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from functools import lru_cache

import numpy as np
from fastapi import FastAPI

from assist.analysis import Analyzer
from assist.app import create_app
from assist.config import Settings
from assist.retrieval.embedder import Encoder, Progress
from assist.rewrite import Rewriter
from assist.services import Services, build_services


class HashedEncoder:
    """Hashed character n-grams (1 to 3, lower-cased) folded into `dim` signed buckets, as unit vectors: texts
    that share words or characters point the same way, so the dense channel still ranks sensibly."""

    def __init__(self, dim: int = 128, name: str = "fake:hashed-char-ngrams") -> None:
        self.name = name
        self.dim = dim
        self.ready = True
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        s = text.lower()
        for n in (1, 2, 3):
            for i in range(len(s) - n + 1):
                h = int.from_bytes(hashlib.blake2b(s[i : i + n].encode("utf-8"), digest_size=8).digest(), "little")
                v[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        self.calls += 1
        out = np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)
        if progress is not None:
            progress(len(texts), len(texts))
        return out.astype(np.float32)


@lru_cache
def shared_analyzer() -> Analyzer:
    """One analyzer for the test session: reading its YAML lexicons is most of building an app (about 2 s here)."""
    return Analyzer.load()


@lru_cache
def shared_rewriter(default_lang: str) -> Rewriter:
    """One rewriter per default language for the test session (its rules are read-only once loaded)."""
    return Rewriter.load(default_lang=default_lang)


def fake_services(
    settings: Settings, encoder: Encoder | None = None
) -> Callable[[], AbstractAsyncContextManager[Services]]:
    """A services factory for `create_app`: the real graph with the hashed encoder instead of the model, and the
    session's analyzer and rewriter instead of reading their data again."""
    return lambda: build_services(
        settings,
        encoder=encoder or HashedEncoder(),
        analyzer=shared_analyzer(),
        rewriter=shared_rewriter(settings.default_lang),
    )


def fake_app(settings: Settings) -> FastAPI:
    """`create_app(settings)` with the hashed encoder in place of the model."""
    return create_app(settings, services=fake_services(settings))


class MemoryVectorCache:
    """The store's vector cache API (`cached_vectors` / `save_vectors`), in memory: (model key, text hash) -> bytes."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], bytes] = {}

    def cached_vectors(self, model: str, hashes: Sequence[str]) -> dict[str, bytes]:
        return {h: self.rows[(model, h)] for h in hashes if (model, h) in self.rows}

    def save_vectors(self, model: str, dim: int, vectors: dict[str, bytes]) -> None:
        self.rows.update({(model, h): v for h, v in vectors.items()})
