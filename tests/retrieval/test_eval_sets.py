"""The shipped retrieval evaluation sets: valid labels, unique ids, every language and label present."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from assist.retrieval.evaluate import DEFAULT_SET, load_set
from assist.vocab import EMOTIONS, LANGS, SITUATIONS

HOLDOUT = DEFAULT_SET.with_name("retrieval_holdout.yml")
BLIND = DEFAULT_SET.with_name("retrieval_blind.yml")  # issue 14's blind set: schema only here, never scored in tests
BLIND2 = DEFAULT_SET.with_name("retrieval_blind2.yml")  # the second blind set (round 2): likewise never scored here
BLIND3 = DEFAULT_SET.with_name("retrieval_blind3.yml")  # the third blind set (round 3): likewise never scored here
BLIND4 = DEFAULT_SET.with_name("retrieval_blind4.yml")  # the fourth blind set (round 4): likewise never scored here
CANTONESE = re.compile("[咗嘅係唔冇哋喺嚟㗎啲嗰]")


@pytest.mark.parametrize(
    ("path", "least"), [(DEFAULT_SET, 120), (HOLDOUT, 90), (BLIND, 210), (BLIND2, 225), (BLIND3, 225), (BLIND4, 225)]
)
def test_eval_set_is_complete(path: Path, least: int) -> None:
    items = load_set(path)
    assert len(items) >= least
    assert {i.lang for i in items} == set(LANGS)
    assert set(SITUATIONS) <= {s for i in items for s in i.situations}
    assert set(EMOTIONS) <= {e for i in items for e in i.emotions}


def test_eval_set_refuses_repeated_ids(tmp_path: Path) -> None:
    twice = tmp_path / "twice.yml"
    twice.write_text(
        "- {id: a, lang: en, text: hi, situations: [greeting], emotions: [neutral]}\n" * 2, encoding="utf-8"
    )
    with pytest.raises(ValueError, match="appears twice"):
        load_set(twice)


def test_blind_set_shape() -> None:
    """70 messages per language, every situation at least 4 times in each, at least 20 Cantonese ones."""
    items = load_set(BLIND)
    assert Counter(i.lang for i in items) == dict.fromkeys(LANGS, 70)
    for lang in LANGS:
        seen = Counter(s for i in items if i.lang == lang for s in i.situations)
        assert {s: seen[s] for s in SITUATIONS if seen[s] < 4} == {}, lang
    assert all(len(set(i.situations)) == len(i.situations) and len(set(i.emotions)) == len(i.emotions) for i in items)
    assert sum(1 for i in items if i.lang == "zh-Hant" and CANTONESE.search(i.text)) >= 20


def test_blind2_set_shape() -> None:
    """75 messages per language, every situation the main one at least 3 times in each, 30 Hong Kong ones."""
    items = load_set(BLIND2)
    assert Counter(i.lang for i in items) == dict.fromkeys(LANGS, 75)
    for lang in LANGS:
        main = Counter(i.situations[0] for i in items if i.lang == lang)
        assert {s: main[s] for s in SITUATIONS if main[s] < 3} == {}, lang
    assert all(len(set(i.situations)) == len(i.situations) and len(set(i.emotions)) == len(i.emotions) for i in items)
    assert sum(1 for i in items if i.lang == "zh-Hant" and CANTONESE.search(i.text)) >= 25


@pytest.mark.parametrize("path", [BLIND3, BLIND4], ids=["blind3", "blind4"])
def test_later_blind_set_shape(path: Path) -> None:
    """The third and fourth blind sets: 75 messages per language, every situation the main one at least 3 times
    in each, 30 Hong Kong ones, no earlier turns, every emotion the main one somewhere in each language."""
    items = load_set(path)
    assert Counter(i.lang for i in items) == dict.fromkeys(LANGS, 75)
    for lang in LANGS:
        main = Counter(i.situations[0] for i in items if i.lang == lang)
        assert {s: main[s] for s in SITUATIONS if main[s] < 3} == {}, lang
        assert {i.emotions[0] for i in items if i.lang == lang} == set(EMOTIONS), lang
    assert all(len(set(i.situations)) == len(i.situations) and len(set(i.emotions)) == len(i.emotions) for i in items)
    assert all(not i.context for i in items)
    assert sum(1 for i in items if i.lang == "zh-Hant" and CANTONESE.search(i.text)) >= 25


def _norm(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text.lower()) or text.strip()


def _texts(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [t for v in node.values() for t in _texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v)]
    return []


@pytest.mark.parametrize("path", [BLIND, BLIND2, BLIND3, BLIND4])
def test_blind_set_repeats_no_other_eval_text(path: Path) -> None:
    """Written fresh: no blind text is (up to case, spaces and punctuation) a text of another eval file."""
    blind = [_norm(i.text) for i in load_set(path)]
    assert len(set(blind)) == len(blind)
    eval_dir = path.parent
    others = {
        _norm(t)
        for path_ in [*eval_dir.glob("*.yml"), *eval_dir.glob("customer_messages/*.yml")]
        if path_ != path
        for t in _texts(yaml.safe_load(path_.read_text(encoding="utf-8")))
    }
    assert sorted(set(blind) & others) == []
