"""Example messages on phrases in the search index (no model: tests/fakes.py's HashedEncoder), and phrases that
presume a customer type the profile has not shown."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assist.bank.schema import PhraseIn
from assist.bank.store import PhraseStore
from assist.config import RetrievalSettings
from assist.retrieval.searcher import HybridSearcher, Query
from assist.retrieval.sparse import BM25
from tests.fakes import HashedEncoder
from tests.utils import phrase

BANK = [
    phrase(
        "locker.code",
        text={"zh-Hans": "取件码在快递短信里，六位数字。", "en": "The pickup code is in the courier's text message."},
        situations=["delivery"],
        emotions=["confusion"],
        customer_types=[],
        examples={"en": ["parcel stuck in the locker thingy, how open"], "zh-Hant": ["個櫃點開呀"]},
    ),
    phrase(
        "refund.when",
        text={
            "zh-Hans": "退款会在三个工作日内原路退回。",
            "en": "The refund goes back to your card within three days.",
        },
        situations=["refund_return"],
        emotions=["anxiety"],
        customer_types=[],
    ),
    phrase(
        "praise.expert",
        text={
            "zh-Hans": "您真是行家，一眼就看出了问题。",
            "en": "You clearly know your stuff; you spotted it at once.",
        },
        situations=["defect"],
        emotions=["frustration"],
        customer_types=["knowledge:expert"],
        technique="praise",
    ),
    phrase(
        "defect.replace",
        text={"zh-Hans": "给您换一台新的，今天发出。", "en": "We'll send you a new unit today."},
        situations=["defect"],
        emotions=["frustration"],
        customer_types=["social_style:driver"],
        technique="expectation_setting",
    ),
]


def settings(**overrides: object) -> RetrievalSettings:
    fields: dict[str, object] = {"model_name": "fake:hashed-char-ngrams", "lang_dense_weight": {}}
    return RetrievalSettings(**(fields | overrides))  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> PhraseStore:
    s = PhraseStore.connect(f"sqlite:///{tmp_path / 'bank.db'}")
    s.import_entries([PhraseIn.model_validate(p) for p in BANK], "test")
    return s


@pytest.fixture
def searcher(store: PhraseStore) -> HybridSearcher:
    return HybridSearcher.build(store, HashedEncoder(), settings())


def keys(hits) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.phrase["key"] for h in hits]


def test_a_phrase_is_found_by_its_examples_in_both_channels(searcher: HybridSearcher) -> None:
    # No word of the query is in the phrase's own texts; its example shares them.
    q = Query("how do i open the locker thingy", lang="en", k=4)
    assert keys(searcher.search(q, "lexical"))[0] == "locker.code"
    assert keys(searcher.search(q, "dense"))[0] == "locker.code"
    # A Cantonese example answers a Simplified query too (the lexical channel reads both scripts as one).
    assert keys(searcher.search(Query("柜点开", lang="zh-Hans", k=4), "lexical"))[0] == "locker.code"


def test_a_phrase_scores_by_its_best_text_or_example_not_their_sum() -> None:
    bm25 = BM25(stride=4)
    bm25.set_row(0, [["refund"], ["refund"], ["refund"]])  # the same match three times
    bm25.set_row(1, [["refund"], ["other"]])
    bm25.set_row(2, [["unrelated"]])
    scores = bm25.scores(["refund"], 3)
    assert scores[0] == pytest.approx(scores[1]) and scores[0] > 0 and scores[2] == 0
    bm25.remove_row(0)
    assert bm25.scores(["refund"], 3)[0] == 0


def test_example_edits_reach_the_index(store: PhraseStore, searcher: HybridSearcher) -> None:
    pid = next(p["id"] for p in store.records() if p["key"] == "refund.when")
    q = Query("wheres my dosh mate, shipped it off ages ago", lang="en", k=4)
    assert "refund.when" not in keys(searcher.search(q, "lexical"))
    store.update(pid, {"examples": {"en": ["wheres my dosh mate, shipped it off ages ago"]}}, 1, "lead")
    searcher.refresh(store, [pid])
    assert keys(searcher.search(q, "lexical"))[0] == "refund.when"
    store.update(pid, {"examples": {"en": []}}, 2, "lead")
    searcher.refresh(store, [pid])
    assert "refund.when" not in keys(searcher.search(q, "lexical"))


def test_examples_are_encoded_as_queries_and_cached_under_the_query_key(store: PhraseStore) -> None:
    class PrefixedEncoder(HashedEncoder):
        """Like e5: queries and passages embedded differently, cached under different keys."""

        cache_name = "fake|passage:"
        query_cache_name = "fake|query:"

        def __init__(self) -> None:
            super().__init__()
            self.queries: list[str] = []

        def encode_queries(self, texts, batch_size=64):  # type: ignore[no-untyped-def]
            self.queries.extend(texts)
            return self.encode(texts)

    class Cache:
        def __init__(self) -> None:
            self.rows: dict[tuple[str, str], bytes] = {}

        def cached_vectors(self, model: str, hashes):  # type: ignore[no-untyped-def]
            return {h: self.rows[(model, h)] for h in hashes if (model, h) in self.rows}

        def save_vectors(self, model: str, dim: int, vectors: dict[str, bytes]) -> None:
            self.rows.update(((model, h), v) for h, v in vectors.items())

    encoder, cache = PrefixedEncoder(), Cache()
    HybridSearcher.build(store, encoder, settings(), cache=cache)
    assert sorted(encoder.queries) == sorted(["parcel stuck in the locker thingy, how open", "個櫃點開呀"])
    assert len([m for m, _ in cache.rows if m == "fake|query:"]) == 2
    encoder.queries.clear()
    HybridSearcher.build(store, encoder, settings(), cache=cache)  # a restart encodes nothing
    assert encoder.queries == []


def test_a_phrase_presuming_a_customer_type_without_evidence_does_not_lead(searcher: HybridSearcher) -> None:
    # Tilted towards the praise: its text is the message's wording. Without evidence that the customer is an
    # expert it still is not offered first; with that evidence it may be.
    text = "You clearly know your stuff? it broke at once"

    def query(**profile: float) -> Query:
        return Query(text, lang="en", situations={"defect": 1.0}, emotion="frustration", customer_types=profile, k=3)

    hits = searcher.search(query())
    assert keys(hits)[0] == "defect.replace" and "praise.expert" in keys(hits)
    assert keys(searcher.search(query(**{"knowledge:expert": 0.8})))[0] == "praise.expert"
    # Evidence of another label of the same dimension is not evidence of this one.
    assert keys(searcher.search(query(**{"knowledge:novice": 0.8})))[0] == "defect.replace"


def test_a_presuming_phrase_still_leads_when_nothing_else_is_eligible(store: PhraseStore) -> None:
    only = PhraseStore.connect("sqlite://")
    only.import_entries([PhraseIn.model_validate(BANK[2])], "test")
    searcher = HybridSearcher.build(only, HashedEncoder(), settings())
    assert keys(searcher.search(Query("broke", lang="en", situations={"defect": 1.0}, k=3))) == ["praise.expert"]


def test_dense_ids_leave_room_for_every_example() -> None:
    from assist.bank.schema import MAX_EXAMPLES
    from assist.retrieval.rows import Rows

    rows = Rows(["zh-Hans", "zh-Hant", "en"])
    ids = rows.dense_ids(2)
    assert rows.text_id(2, "en") in ids and rows.example_id(2, MAX_EXAMPLES - 1) == ids[-1]
    assert not np.intersect1d(ids, rows.dense_ids(3)).size
