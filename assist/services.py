"""Building the search side once per process: embedder, index over the bank, suggester."""

from __future__ import annotations

import ctypes
import logging
import time

from assist.bank.store import PhraseStore
from assist.config import Settings
from assist.retrieval.embedder import Progress, shared_embedder
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


def build_searcher(settings: Settings, store: PhraseStore, progress: Progress | None = None) -> HybridSearcher:
    """Load the model and index the bank's approved phrases; vectors come from the store's cache."""
    started = time.perf_counter()
    embedder = shared_embedder(settings.retrieval.model_name, settings.retrieval.torch_threads)
    searcher = HybridSearcher.build(store, embedder, settings.retrieval,
                                    progress=progress or log_progress("encoding phrases"))
    # Warm what the first message or bank edit would otherwise pay for: jieba's dictionary, torch's first call.
    tokens("预热 warm up")
    embedder.encode(["warm up"])
    trim_heap()
    logger.info("search index: %d approved phrases ready in %.1f s", len(searcher), time.perf_counter() - started)
    return searcher


def build_suggester(settings: Settings, store: PhraseStore, analyzer: AnalyzerLike,
                    progress: Progress | None = None) -> Suggester:
    return Suggester(analyzer, build_searcher(settings, store, progress), settings.retrieval.top_k)
