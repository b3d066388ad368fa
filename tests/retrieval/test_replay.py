"""The replay measurement of the learned feature (assist eval learning), on the shipped bank with the hashed
encoder: the simulated agent's choices on the first part are stored and the second part is ranked with them."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist.bank.feedback import query_model
from assist.bank.store import PhraseStore
from assist.config import FeedbackSettings, RetrievalSettings
from assist.retrieval.embedder import encode_queries
from assist.retrieval.replay import Replay, load_any, render, summary
from assist.retrieval.searcher import HybridSearcher
from assist.suggest import Suggester
from tests.fakes import HashedEncoder, shared_analyzer

ROOT = Path(__file__).resolve().parents[2]


def test_replay_reports_the_second_part_without_and_with_the_first_parts_choices(tmp_path: Path) -> None:
    items = load_any(ROOT / "eval" / "customer_messages" / "dev.yml")[:24]
    assert {i.lang for i in items} == {"zh-Hans"} and all(i.emotions for i in items)
    store = PhraseStore.connect(f"sqlite:///{tmp_path / 'bank.db'}")
    store.seed(ROOT / "assist" / "phrasebank")
    encoder = HashedEncoder()
    searcher = HybridSearcher(encoder, RetrievalSettings())
    searcher.upsert(store.records(statuses=["approved"]))
    analyzer = shared_analyzer()
    analyses = [analyzer.message_analysis(i.text) for i in items]
    vectors = encode_queries(encoder, [i.text for i in items])
    suggester = Suggester(analyzer, searcher, 5)
    replay = Replay(suggester, store.db, items, vectors, analyses, query_model(encoder))
    runs = [replay.run(FeedbackSettings(min_similarity=0.3), seed=s) for s in range(2)]
    for run in runs:
        assert run["first"] == 12 and run["second"] == 12
        assert run["picks"] + run["no_fit_in_depth"] == 12 and run["picks"] > 0
        assert run["without"]["all"]["n"] == run["with"]["all"]["n"] == 12
    report = summary(runs)
    assert report["runs"] == 2 and "zh-Hans" in report["with"]
    assert "without -> with" in render(report)
    assert suggester.memory is None  # the replay leaves the suggester as it found it
    store.close()


def test_load_any_reads_both_set_formats() -> None:
    assert load_any(ROOT / "eval" / "retrieval.yml")[0].id == "zhs.001"
    msg = load_any(ROOT / "eval" / "customer_messages" / "dev.yml")[10]
    assert msg.id == "dev-zhs-011" and msg.emotions == ["anger", "frustration"]  # the primary, then `also`
    with pytest.raises(FileNotFoundError):
        load_any(ROOT / "eval" / "nope.yml")
