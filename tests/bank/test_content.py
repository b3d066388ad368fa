"""The shipped phrase bank: valid, unique, cited, and covering the whole vocabulary."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from assist.bank.content import load_shipped, normalize_seed_text
from assist.vocab import EMOTIONS, PROFILE_LABELS, SITUATIONS, TECHNIQUES

ROOT = Path(__file__).resolve().parents[2]
PHRASEBANK = ROOT / "assist" / "phrasebank"
SEEDS = ROOT.parent / "shared" / "seeds"

ENTRIES = [entry for _, entry in load_shipped(PHRASEBANK)]


def test_content_has_at_least_300_entries() -> None:
    assert len(ENTRIES) >= 300


def test_content_keys_are_unique_and_present() -> None:
    keys = [e.key for e in ENTRIES]
    assert None not in keys
    assert [k for k, n in Counter(keys).items() if n > 1] == []


def test_content_every_entry_has_chinese_english_and_citation() -> None:
    for e in ENTRIES:
        assert {"zh-Hans", "en"} <= set(e.text), e.key
        assert e.source is not None and e.technique is not None, e.key
        assert e.situations and e.emotions, e.key


@pytest.mark.parametrize(
    ("field", "labels", "minimum"),
    [
        ("situations", SITUATIONS, 12),
        ("emotions", EMOTIONS, 20),
        ("customer_types", PROFILE_LABELS, 6),
        ("technique", tuple(TECHNIQUES), 8),
    ],
)
def test_content_coverage(field: str, labels: tuple[str, ...], minimum: int) -> None:
    counts: Counter[str] = Counter()
    for e in ENTRIES:
        value = getattr(e, field)
        counts.update(value if isinstance(value, list) else [value])
    short = {label: counts[label] for label in labels if counts[label] < minimum}
    assert short == {}, f"{field} below {minimum}: {short}"


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed documents not found at {SEEDS}")
def test_content_citations_name_a_seed_and_a_principle_found_in_it() -> None:
    seeds = {p.name: normalize_seed_text(p.read_text(encoding="utf-8")) for p in SEEDS.glob("*.txt")}
    bad = []
    for e in ENTRIES:
        assert e.source is not None
        text = seeds.get(e.source.seed)
        if text is None or normalize_seed_text(e.source.principle) not in text:
            bad.append((e.key, e.source.seed, e.source.principle))
    assert bad == []


def test_content_every_entry_has_three_chinese_and_three_english_examples() -> None:
    short = [
        e.key
        for e in ENTRIES
        if len(e.examples.get("en", [])) < 3 or len(e.examples.get("zh-Hans", []) + e.examples.get("zh-Hant", [])) < 3
    ]
    assert short == []
    # both Chinese scripts are represented across the bank (Traditional includes Hong Kong Cantonese)
    assert sum(len(e.examples.get("zh-Hant", [])) for e in ENTRIES) >= len(ENTRIES)


def _bigrams(text: str) -> set[str]:
    t = " ".join(text.lower().split())
    return {t[i : i + 2] for i in range(max(1, len(t) - 1))}


def test_content_examples_are_not_copied_from_the_eval_sets() -> None:
    """Examples were written for the bank; none may repeat (or nearly repeat) a message of any retrieval set
    (development, held-out, blind: every eval/retrieval*.yml), which would leak it into the index
    (character-bigram Jaccard < 0.5)."""
    from assist.retrieval.evaluate import load_set

    sets = sorted((ROOT / "eval").glob("retrieval*.yml"))
    assert len(sets) >= 2
    messages = [
        text for path in sets for item in load_set(path) for text in [item.text, *(turn.text for turn in item.context)]
    ]
    grams = [_bigrams(m) for m in messages]
    close = []
    for e in ENTRIES:
        for examples in e.examples.values():
            for x in examples:
                g = _bigrams(x)
                close += [(e.key, x, m) for m, h in zip(messages, grams, strict=True) if len(g & h) / len(g | h) >= 0.5]
    assert close == []
