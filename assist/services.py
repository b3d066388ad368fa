"""Building the search side once per process: embedder, index over the bank, suggester."""

from __future__ import annotations

import ctypes
import logging
import threading
import time

from assist.bank.store import PhraseStore
from assist.config import Settings
from assist.retrieval.embedder import Embedder, Progress, shared_embedder
from assist.retrieval.searcher import HybridSearcher
from assist.retrieval.tokenize import tokens
from assist.suggest import AnalyzerLike, Suggester

logger = logging.getLogger(__name__)


def log_progress(what: str) -> Progress:
    """A progress callback that logs about every tenth of the work (first start encodes the bank)."""
    last = [-1]

    def report(done: int, total: int) -> None:
        step = done * 10 // max(total, 1)
        if step != last[0]:
            last[0] = step
            logger.info("%s: %d/%d (%d%%)", what, done, total, done * 100 // max(total, 1))

    return report


def trim_heap() -> None:
    """Hand freed heap memory back to the system. glibc keeps what torch freed after encoding the bank (the
    activations of batches of long phrases): 10,000 phrases left about 380 MiB resident that nothing used."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def _load_in_background(embedder: Embedder, started: float) -> None:
    try:
        embedder.encode(["warm up"])  # loads the model, then pays for torch's first call
    except Exception:  # the dense channel stays off; everything else keeps working
        logger.exception("embedder: %s failed to load; suggestions use the lexical channel only", embedder.name)
        return
    trim_heap()
    logger.info("embedder: ready %.1f s after start-up began; the dense channel is on", time.perf_counter() - started)


def build_searcher(settings: Settings, store: PhraseStore, progress: Progress | None = None,
                   background: bool = False) -> HybridSearcher:
    """Index the bank's approved phrases (vectors from the store's cache) with the model loaded. With
    `background`, a local model is loaded on a thread after the index is built, so the service answers
    meanwhile: every language through the lexical channel and the rerank, the dense channel joining once
    the model is ready. Texts missing from the cache (a first start) still load it at once."""
    started = time.perf_counter()
    embedder = shared_embedder(settings.retrieval.model_name, settings.retrieval.torch_threads, load=not background,
                               trace=settings.retrieval.trace_model)
    searcher = HybridSearcher.build(store, embedder, settings.retrieval,
                                    progress=progress or log_progress("encoding phrases"))
    # Warm what the first message or bank edit would otherwise pay for: jieba's dictionary, torch's first call.
    tokens("预热 warm up")
    if embedder.ready:
        embedder.encode(["warm up"])
    else:
        threading.Thread(target=_load_in_background, args=(embedder, started), name="model-load", daemon=True).start()
    trim_heap()
    logger.info("search index: %d approved phrases ready in %.1f s%s", len(searcher), time.perf_counter() - started,
                "" if embedder.ready else "; loading the model beside it")
    return searcher


def build_suggester(settings: Settings, store: PhraseStore, analyzer: AnalyzerLike,
                    progress: Progress | None = None, background: bool = False) -> Suggester:
    return Suggester(analyzer, build_searcher(settings, store, progress, background), settings.retrieval.top_k)
