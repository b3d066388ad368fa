"""HybridSearcher over a real store and the real bundled model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from assist.bank.schema import PhraseIn
from assist.bank.store import PhraseStore
from assist.retrieval.embedder import Embedder
from assist.retrieval.searcher import HybridSearcher, Query
from tests.retrieval.conftest import minilm
from tests.utils import phrase


class CountingEncoder:
    """The real embedder, counting the texts it is asked to encode."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim, self.encoded = inner, inner.name, inner.dim, 0

    def encode(self, texts: Sequence[str], batch_size: int = 64, progress=None) -> np.ndarray:  # type: ignore[no-untyped-def]
        self.encoded += len(texts)
        return self.inner.encode(texts, batch_size, progress)


BANK = [
    phrase(
        "late.apology",
        text={
            "zh-Hans": "非常抱歉让您久等了，包裹预计{eta}送达。",
            "en": "I'm so sorry for the wait; your parcel should arrive by {eta}.",
        },
        situations=["delay", "delivery"],
        emotions=["anger", "frustration"],
        technique="apology",
    ),
    phrase(
        "late.apology2",
        text={
            "zh-Hans": "非常抱歉让您久等了，包裹预计{eta}送到。",
            "en": "I'm so sorry for the wait; your parcel should arrive by {eta}!",
        },
        situations=["delay", "delivery"],
        emotions=["anger"],
        technique="apology",
    ),
    phrase(
        "late.calm",
        text={
            "zh-Hans": "我理解您着急，同时已为您催促仓库，今天内给您回复。",
            "en": "I understand the rush, and I've chased the warehouse; you'll hear back today.",
        },
        situations=["delay"],
        emotions=["anxiety"],
        technique="understand_and",
    ),
    phrase(
        "refund.fee",
        text={
            "zh-Hans": "退货运费由我们承担，您只需在{days}天内寄回。",
            "en": "We cover the return shipping; just send it back within {days} days.",
        },
        situations=["refund_return"],
        emotions=["neutral"],
        technique="expectation_setting",
    ),
    phrase(
        "price.value",
        text={"zh-Hans": "这款包含两年保修，长期更划算。", "en": "It includes a two-year warranty."},
        situations=["price"],
        emotions=["neutral"],
        customer_types=["price_attitude:haggler"],
        technique="redirect",
        teams=["sales"],
    ),
    phrase("draft.one", text={"en": "A draft reply about delays."}, status="draft", situations=["delay"]),
]


@pytest.fixture
def store(tmp_path: Path) -> PhraseStore:
    s = PhraseStore.connect(f"sqlite:///{tmp_path / 'bank.db'}")
    s.import_entries([PhraseIn.model_validate(p) for p in BANK], "test")
    return s


@pytest.fixture
def searcher(store: PhraseStore, embedder: Embedder) -> HybridSearcher:
    return HybridSearcher.build(store, embedder, minilm())


def keys(hits) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.phrase["key"] for h in hits]


def _id(store: PhraseStore, key: str) -> int:
    return next(p["id"] for p in store.records() if p["key"] == key)


def test_searcher_indexes_approved_phrases_only(searcher: HybridSearcher) -> None:
    assert len(searcher) == 5
    assert "draft.one" not in keys(searcher.search(Query("delays", lang="en", k=10), "lexical"))


def test_searcher_refreshes_bank_edits_incrementally(store: PhraseStore, searcher: HybridSearcher) -> None:
    # In a running service the bank's change notices call refresh (assist.bank.notices, tests/bank/test_notices.py).
    draft = _id(store, "draft.one")
    store.set_status(draft, "approved", None, "lead")
    searcher.refresh(store, [draft])
    assert "draft.one" in keys(searcher.search(Query("delays", lang="en", k=10), "lexical"))
    store.update(draft, {"text": {"en": "Thunderstorms slowed the courier."}}, 2, "lead")
    searcher.refresh(store, [draft])
    assert keys(searcher.search(Query("thunderstorms", lang="en", k=1), "lexical")) == ["draft.one"]
    assert "draft.one" not in keys(searcher.search(Query("delays", lang="en", k=10), "lexical"))
    store.retire(draft, None, "lead")
    searcher.refresh(store, [draft])
    assert "draft.one" not in keys(searcher.search(Query("thunderstorms", lang="en", k=10), "lexical"))
    assert len(searcher) == 5


def test_searcher_team_scope(searcher: HybridSearcher) -> None:
    # The message haggles, so the profile shows it (a haggler's phrase without that evidence would not lead).
    q = Query(
        "太贵了，能便宜点吗",
        lang="zh-Hans",
        situations={"price": 1.0},
        customer_types={"price_attitude:haggler": 0.7},
        k=10,
    )
    assert "price.value" not in keys(searcher.search(q))
    q.team = "sales"
    assert keys(searcher.search(q))[0] == "price.value"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("包裹怎麼還沒到", "非常抱歉讓您久等了"),
        ("包裹怎么还没到", "非常抱歉让您久等了"),
        ("where is my parcel", "I'm so sorry"),
    ],
)
def test_searcher_answers_in_the_customers_script(searcher: HybridSearcher, text: str, expected: str) -> None:
    hits = searcher.search(Query(text, situations={"delay": 0.9, "delivery": 0.8}, emotion="anger", k=1))
    assert hits[0].text.startswith(expected)


def test_searcher_traditional_query_matches_simplified_text_lexically(searcher: HybridSearcher) -> None:
    hits = searcher.search(Query("退貨運費誰出", lang="zh-Hant", k=1), "lexical")
    assert keys(hits) == ["refund.fee"] and hits[0].text.startswith("退貨運費")


def test_searcher_rerank_prefers_situation_emotion_and_technique(searcher: HybridSearcher) -> None:
    q = Query(
        "我急着用，什么时候能到",
        lang="zh-Hans",
        situations={"delay": 0.9},
        emotion="anxiety",
        emotion_scores={"anxiety": 0.8, "frustration": 0.3},
        k=3,
    )
    hits = searcher.search(q)
    assert hits[0].phrase["key"] == "late.calm"
    reasons = hits[0].reasons
    assert reasons.emotions == ["anxiety"] and "delay" in reasons.situations
    assert reasons.technique and reasons.technique.startswith("understand_and")
    assert "anxiety + delay" in reasons.english()


def test_searcher_drops_near_duplicates(searcher: HybridSearcher) -> None:
    hits = searcher.search(Query("parcel late", lang="en", situations={"delay": 1.0}, emotion="anger", k=5))
    assert not {"late.apology", "late.apology2"} <= set(keys(hits))


def test_searcher_restart_encodes_nothing_new(store: PhraseStore, embedder: Embedder) -> None:
    first = CountingEncoder(embedder)
    HybridSearcher.build(store, first, minilm())
    assert first.encoded == 5  # the English text of five approved phrases: the model knows English only
    again = CountingEncoder(embedder)
    HybridSearcher.build(store, again, minilm())
    assert again.encoded == 0


def test_searcher_multilingual_model_setting_indexes_more_languages(store: PhraseStore, embedder: Embedder) -> None:
    counting = CountingEncoder(embedder)
    settings = minilm(model_langs=["en", "zh-Hans"], foreign_dense_weight=0.0)
    searcher = HybridSearcher.build(store, counting, settings)
    assert counting.encoded == 10  # English and Simplified text of five approved phrases
    assert searcher.search(Query("包裹", lang="zh-Hans", k=1), "dense")


def test_searcher_switches_to_ivf_and_keeps_following_edits(store: PhraseStore, embedder: Embedder) -> None:
    searcher = HybridSearcher.build(store, embedder, minilm(ivf_threshold=4, nprobe=4))
    assert searcher._dense.kind == "ivf"
    fee = _id(store, "refund.fee")
    assert keys(searcher.search(Query("who pays for return shipping", lang="en", k=1), "dense")) == ["refund.fee"]
    store.retire(fee, None, "lead")
    searcher.refresh(store, [fee])
    assert "refund.fee" not in keys(searcher.search(Query("return shipping", lang="en", k=5), "dense"))


def test_searcher_empty_bank_and_odd_queries(tmp_path: Path, embedder: Embedder) -> None:
    empty = HybridSearcher.build(PhraseStore.connect(f"sqlite:///{tmp_path / 'e.db'}"), embedder, minilm())
    assert empty.search(Query("hello")) == []


@pytest.mark.parametrize("text", ["", "   ", "😀", "\x00\x07", "字" * 20_000])
def test_searcher_odd_queries_do_not_fail(searcher: HybridSearcher, text: str) -> None:
    assert isinstance(searcher.search(Query(text, k=3)), list)


@pytest.mark.parametrize("channel", ["dense", "lexical", "fused", "rerank"])
def test_searcher_channels(searcher: HybridSearcher, channel: str) -> None:
    hits = searcher.search(Query("return shipping fee", lang="en", k=2), channel)
    assert 1 <= len(hits) <= 2 and hits[0].phrase["key"] == "refund.fee"
    with pytest.raises(ValueError, match="unknown channel"):
        searcher.search(Query("x"), "magic")


def test_searcher_neutral_read_problem_leans_on_situation_emotions(store: PhraseStore, embedder: Embedder) -> None:
    q = Query(
        "the parcel is late",
        lang="en",
        situations={"delay": 1.0},
        emotion="neutral",
        emotion_scores={"neutral": 1.0},
        k=5,
    )
    on = HybridSearcher.build(store, embedder, minilm())
    off = HybridSearcher.build(store, embedder, minilm(situation_emotion_weight=0.0))
    emotion = {h.phrase["key"]: h.parts["emotion"] for h in on.search(q)}
    assert emotion["late.apology"] == pytest.approx(1.0)  # frustration, implied by delay, now ties neutral
    assert {h.phrase["key"]: h.parts["emotion"] for h in off.search(q)}["late.apology"] == 0.0


COVERAGE_BANK = [
    phrase(
        "wait.sorry",
        text={"en": "Sorry the parcel is late; the courier has it and it is on the way now."},
        situations=["delay"],
        emotions=["frustration"],
        technique="apology",
    ),
    phrase(
        "wait.fair",
        text={"en": "A late parcel is annoying, and the courier says it is on the way today."},
        situations=["delay"],
        emotions=["frustration"],
        technique="understand_and",
    ),
    phrase(
        "wait.hear",
        text={"en": "I hear you about the late parcel; the courier confirms it is on the way."},
        situations=["delay"],
        emotions=["frustration"],
        technique="acknowledge",
    ),
    phrase(
        "wait.calm",
        text={"en": "The late parcel is with the courier; I will send you its tracking update by noon."},
        situations=["delay"],
        emotions=["anxiety"],
        technique="expectation_setting",
    ),
]


def test_searcher_covers_each_likely_reading_near_the_top(tmp_path: Path, embedder: Embedder) -> None:
    store = PhraseStore.connect(f"sqlite:///{tmp_path / 'cover.db'}")
    store.import_entries([PhraseIn.model_validate(p) for p in COVERAGE_BANK], "test")
    q = Query(
        "the parcel is late, where is the courier, is it on the way",
        lang="en",
        situations={"delay": 1.0},
        emotion="frustration",
        emotion_scores={"frustration": 0.6, "anxiety": 0.4},
        k=3,
    )
    plain = keys(HybridSearcher.build(store, embedder, minilm(w_coverage=0.0)).search(q))
    hits = HybridSearcher.build(store, embedder, minilm()).search(q)
    covered = keys(hits)
    assert "wait.calm" not in plain  # three frustration phrases outscore it on words alone
    assert "wait.calm" in covered and covered[0] == plain[0]  # the anxious reading gets an answer; the best stays
    other = hits[covered.index("wait.calm")].reasons
    assert other.other_reading == "anxiety" and not other.emotions and "delay" in other.situations
    assert other.english().startswith("anxiety (other reading) + delay")
    certain = Query(
        q.text, lang="en", situations={"delay": 1.0}, emotion="frustration", emotion_scores={"frustration": 1.0}, k=3
    )
    assert "wait.calm" not in keys(HybridSearcher.build(store, embedder, minilm()).search(certain))


def test_searcher_answers_while_the_model_loads_then_reads_the_dense_channel(
    store: PhraseStore, embedder: Embedder
) -> None:
    HybridSearcher.build(store, embedder, minilm())  # an earlier start filled the vector cache
    loading = Embedder(minilm().model_name)
    assert loading.probe() and loading.dim == 384 and not loading.ready  # size from the model folder, no weights
    searcher = HybridSearcher.build(store, loading, minilm())  # vectors from the store's cache
    assert not loading.ready and not searcher.uses_dense("en")
    q = Query("who pays for return shipping", lang="en", k=2)
    hits = searcher.search(q)
    assert keys(hits)[0] == "refund.fee" and hits[0].parts["dense"] == 0.0  # lexical channel and rerank
    loading.load()
    assert searcher.uses_dense("en") and searcher.search(q)[0].parts["dense"] > 0.3


@pytest.mark.slow  # loads the model
def test_searcher_first_start_loads_an_unloaded_model_to_encode(tmp_path: Path) -> None:
    fresh = PhraseStore.connect(f"sqlite:///{tmp_path / 'fresh.db'}")
    fresh.import_entries([PhraseIn.model_validate(p) for p in BANK], "test")
    loading = Embedder(minilm().model_name)
    assert loading.probe()
    HybridSearcher.build(fresh, loading, minilm())  # nothing cached: it must encode
    assert loading.ready
