"""Message-level emotion, cues with spans, language and script, negation, bad input."""

from __future__ import annotations

import pytest

from assist.analysis import analyze_message
from assist.vocab import EMOTIONS


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("气死我了，到现在还没发货！！我要投诉", "anger"),
        ("Great, just great. Where is my ORDER?!", "anger"),
        ("我很担心包裹丢了", "anxiety"),
        ("這個錯誤代碼是什麼意思？", "confusion"),
        ("I'm not happy with this", "disappointment"),
        ("我不满意", "disappointment"),
        ("好的，谢谢", "satisfaction"),
        ("你好，我想改一下收货地址", "neutral"),
    ],
)
def test_emotion_label(text: str, label: str) -> None:
    assert analyze_message(text)["emotion"]["label"] == label


def test_emotion_output_shape() -> None:
    out = analyze_message("唉，又坏了")
    emotion = out["emotion"]
    assert set(emotion) == {"label", "intensity", "scores", "cues", "source"}  # source: "rules" | "model+rules"
    assert set(emotion["scores"]) == set(EMOTIONS)
    assert 0.0 <= emotion["intensity"] <= 1.0
    assert abs(sum(emotion["scores"].values()) - 1.0) < 0.01


@pytest.mark.parametrize(
    ("text", "kind", "span"),
    [
        ("我要打12315投诉你们", "threat", "12315"),
        ("再不处理我就去法院", "threat", "再不处理我就"),
        ("叫你们主管来", "escalation", "主管"),
        ("I need this ASAP", "urgency", "ASAP"),
        ("這就是所謂的優質服務？", "sarcasm", "所謂的優質"),
        ("I want my money BACK!!!", "caps", "BACK"),
        ("I want my money BACK!!!", "exclamation", "!!!"),
        ("唉，算了", "sigh", "唉"),
        ("你们就是骗子", "insult", "骗子"),
        ("I already told you the address", "repetition", "I already told you"),
    ],
)
def test_cue_spans_point_into_the_original_text(text: str, kind: str, span: str) -> None:
    cues = [c for c in analyze_message(text)["emotion"]["cues"] if c["kind"] == kind]
    assert cues, kind
    cue = cues[0]
    assert text[cue["start"] : cue["end"]] == cue["text"] == span
    assert cue["message"] == 0


def test_traditional_text_matches_through_simplified_form_with_original_spans() -> None:
    text = "你們這樣做太過分了，我要給差評"
    out = analyze_message(text)
    assert out["lang"] == "zh-Hant"
    threat = next(c for c in out["emotion"]["cues"] if c["kind"] == "threat")
    assert threat["text"] == "差評" == text[threat["start"] : threat["end"]]


def test_mixed_text_uses_both_lexicons() -> None:
    out = analyze_message("我的refund还没到，need it ASAP")
    assert out["mixed"] is True
    kinds = {c["kind"] for c in out["emotion"]["cues"]}
    assert "urgency" in kinds
    assert out["emotion"]["label"] in {"frustration", "anxiety"}


@pytest.mark.parametrize("text", ["不急，慢慢来", "No rush, it isn't urgent", "我不会给差评的"])
def test_negated_cues_do_not_fire(text: str) -> None:
    kinds = {c["kind"] for c in analyze_message(text)["emotion"]["cues"]}
    assert not kinds & {"urgency", "threat"}


def test_question_forms_are_not_negation() -> None:
    kinds = {c["kind"] for c in analyze_message("能不能快一点")["emotion"]["cues"]}
    assert "urgency" in kinds


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t ", "😀😀😀", "\x00\x01\x02", "a\u202eb\u200bc", "中文English混合!!!", "？？？", "x" * 100_000],
)
def test_bad_input_has_defined_output(text: str) -> None:
    out = analyze_message(text)
    assert out["emotion"]["label"] in EMOTIONS
    assert out["lang"] in {"zh-Hans", "zh-Hant", "en"}
    for cue in out["emotion"]["cues"]:
        assert 0 <= cue["start"] <= cue["end"] <= len(text)


def test_long_text_is_truncated_with_a_flag() -> None:
    out = analyze_message("太慢了" * 40_000)
    assert out["truncated"] is True
    assert analyze_message("太慢了")["truncated"] is False


def test_emoji_only_reads_the_emoji() -> None:
    assert analyze_message("😡😡")["emotion"]["label"] == "anger"
    assert analyze_message("👍")["emotion"]["label"] == "satisfaction"


def test_non_string_input_is_treated_as_empty() -> None:
    assert analyze_message(None)["emotion"]["label"] == "neutral"  # type: ignore[arg-type]
