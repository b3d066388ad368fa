"""Every lexicon entry's and cue pattern's examples, from the packaged YAML, plus loader errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist.analysis import AnalysisDataInvalid, Analyzer
from assist.analysis.analyzer import default_analyzer
from assist.analysis.loader import load_data, load_pack
from assist.analysis.matcher import Matcher

DATA = load_data()


def _cases() -> list[tuple[str, str, Matcher, object]]:  # type: ignore[type-arg]
    out = []
    for pack in DATA.packs:
        groups = [
            (pack.emotion.entries, pack.emotion_matcher),
            (pack.cues.entries, pack.cue_matcher),
            (pack.cues.refusals, pack.refusal_matcher),
            (pack.signals.entries, pack.signal_matcher),
        ]
        for entries, matcher in groups:
            for entry in entries:
                for i, example in enumerate(entry.examples):
                    out.append(pytest.param(pack.name, entry, matcher, example, id=f"{entry.id}[{i}]"))
    return out


@pytest.mark.parametrize(("pack", "entry", "matcher", "example"), _cases())
def test_data_example(pack: str, entry, matcher, example) -> None:  # type: ignore[no-untyped-def]
    reading = default_analyzer().detector.read(example.text)
    hits = [h for h in matcher.find(reading.norm) if h.entry.id == entry.id]
    fired = [h for h in hits if not (getattr(entry, "whole", False) and not _whole(example.text, h.start, h.end))]
    if getattr(entry, "kind", None) is not None or pack and hasattr(entry, "dimension"):
        fired = [h for h in fired if not h.negated]
    if example.hit:
        assert fired, f"{entry.id} did not fire on {example.text!r}"
        if example.span is not None:
            assert example.span.lower() in [example.text[h.start : h.end].lower() for h in fired] or example.span in [
                reading.norm[h.start : h.end] for h in fired
            ]
    else:
        assert not fired, f"{entry.id} fired on {example.text!r}"
    if example.emotion is not None:
        assert default_analyzer().analyze_message(example.text)["emotion"]["label"] == example.emotion


def _whole(text: str, start: int, end: int) -> bool:
    from assist.analysis.emotion import _is_whole

    return _is_whole(text, start, end)


def test_every_hint_target_is_known_and_cited() -> None:
    assert all(h.source and h.text["zh-Hant"] for h in DATA.hints.hints)


def test_loader_names_the_bad_file(tmp_path: Path) -> None:
    (tmp_path / "xx").mkdir()
    (tmp_path / "xx" / "emotion.yml").write_text(
        "entries:\n  - id: xx.bad.v1\n    terms: [foo]\n    emotion: {rage: 1}\n    examples: [{text: foo}]\n",
        encoding="utf-8",
    )
    with pytest.raises(AnalysisDataInvalid, match=r"(?s)emotion\.yml: entry xx\.bad\.v1.*rage"):
        load_pack(tmp_path / "xx")  # type: ignore[arg-type]


def test_loader_rejects_invalid_yaml(tmp_path: Path) -> None:
    (tmp_path / "xx").mkdir()
    (tmp_path / "xx" / "matching.yml").write_text("negators: [x\n", encoding="utf-8")
    with pytest.raises(AnalysisDataInvalid, match="matching.yml"):
        load_pack(tmp_path / "xx")  # type: ignore[arg-type]


def test_loader_rejects_bad_regex(tmp_path: Path) -> None:
    (tmp_path / "xx").mkdir()
    (tmp_path / "xx" / "matching.yml").write_text("negators: '(unclosed'\n", encoding="utf-8")
    with pytest.raises(AnalysisDataInvalid, match="bad regular expression"):
        load_pack(tmp_path / "xx")  # type: ignore[arg-type]


def test_analyzer_loads_from_installed_package() -> None:
    analyzer = Analyzer.load()
    assert {p.name for p in analyzer.data.packs} >= {"zh", "en", "common"}
