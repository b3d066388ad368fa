"""Situation cues: every example in every language's cue file, and behaviour on odd input."""

from __future__ import annotations

import pytest

from assist.languages import registry
from assist.retrieval.situation import detect_situations, load_cues
from assist.suggest import CARRY_BESIDE_OWN, situations_in_context

FOLDER_LANG = {lg.name: lg.codes for lg in registry().languages}
FOLDERS = sorted(lg.name for lg, _ in registry().data("situations.yml"))

CASES = [
    pytest.param(folder, name, ex, id=f"{folder}.{name}.{i}")
    for folder in FOLDERS
    for name, (cues, _) in load_cues(folder).items()
    for i, ex in enumerate(cues.examples)
]


@pytest.mark.parametrize(("folder", "situation", "example"), CASES)
def test_situation_examples(folder: str, situation: str, example) -> None:  # type: ignore[no-untyped-def]
    found = [h.situation for h in detect_situations(example.text, FOLDER_LANG[folder][0])]
    if example.expect:
        assert example.expect in found, found
    if example.not_:
        assert example.not_ not in found, found


def test_situation_every_folder_covers_every_situation() -> None:
    from assist.vocab import SITUATIONS

    for folder in FOLDERS:
        assert sorted(load_cues(folder)) == sorted(SITUATIONS), folder


def test_situation_evidence_spans_point_into_traditional_original() -> None:
    text = "我的包裹怎麼還沒到，等了五天了"
    hits = {h.situation: h for h in detect_situations(text, "zh-Hant")}
    assert "delay" in hits and "delivery" in hits
    for ev in hits["delay"].evidence:
        assert text[ev["start"] : ev["end"]] == ev["text"]


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "\x00\x1b[31m", "a" * 100_000])
def test_situation_odd_input_gives_a_list(text: str) -> None:
    assert isinstance(detect_situations(text, "en"), list)
    assert isinstance(detect_situations(text, "zh-Hans"), list)


def test_own_situation_leads_over_carried_over_topics() -> None:
    earlier = ["我的快递怎么还没到"]
    follow_up = {s["situation"]: s["score"] for s in situations_in_context("然后呢", "zh-Hans", earlier)}
    own = {s["situation"]: s["score"] for s in situations_in_context("那就这样吧，谢谢", "zh-Hans", earlier)}
    assert follow_up["delay"] > 0.5  # a bare follow-up keeps the topic
    assert own["closing"] > 2 * own["delay"] and own["delay"] == pytest.approx(follow_up["delay"] * CARRY_BESIDE_OWN)


@pytest.mark.slow  # starts the service with the model
def test_service_start_reads_every_languages_cues(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Read at start-up, not on a language's first message (which paid 60-130 ms for YAML and regexes)."""
    from fastapi.testclient import TestClient

    from assist.app import create_app
    from assist.config import Settings

    load_cues.cache_clear()
    with TestClient(create_app(Settings(_env_file=None, data_dir=tmp_path, seed_phrasebank=False))):  # type: ignore[call-arg]
        assert load_cues.cache_info().currsize == len(FOLDERS)
