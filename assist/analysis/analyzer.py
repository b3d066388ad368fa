"""Analyzer: the loaded data and detector, built once; one message or a whole conversation in, a dict out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from assist.analysis.conversation import Conversation
from assist.analysis.emotion import EmotionDetector
from assist.analysis.loader import AnalysisData, load_data
from assist.errors import InvalidInput
from assist.schemas import Analysis


class Analyzer:
    def __init__(self, data: AnalysisData) -> None:
        self.data = data
        self.detector = EmotionDetector(data)

    @classmethod
    def load(cls) -> Analyzer:
        """Validate the packaged data, compile the matchers and warm the valence backends."""
        analyzer = cls(load_data())
        analyzer.analyze_message("ok")
        return analyzer

    def conversation(self, default_lang: str = "en") -> Conversation:
        return Conversation(self, default_lang)

    def analyze_message(self, text: str) -> dict[str, Any]:
        """One customer message, read without context."""
        conv = self.conversation()
        conv.add("customer", text, 0.0)
        return conv.to_dict()

    def analyze_conversation(self, turns: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """Turns `{"role", "text", "t"}` in order; `emotion` is the latest customer message's, read in context."""
        conv = self.conversation()
        last_customer: dict[str, Any] | None = None
        for i, turn in enumerate(turns):
            if not isinstance(turn, Mapping):
                raise InvalidInput(f"turn {i}: expected an object with role, text, t")
            text = turn.get("text", "")
            t = turn.get("t")
            if not isinstance(text, str):
                raise InvalidInput(f"turn {i}: text must be a string")
            if t is not None and (isinstance(t, bool) or not isinstance(t, int | float)):
                raise InvalidInput(f"turn {i}: t must be a number of seconds")
            analysis = conv.add(str(turn.get("role", "")), text, t)
            if analysis.role == "customer":
                last_customer = analysis.to_dict()
        out = conv.to_dict()
        if last_customer is not None:
            out["emotion"] = last_customer["emotion"]
        return out

    def message_analysis(self, text: str) -> Analysis:
        """`analyze_message`, typed (assist.schemas.Analysis)."""
        return Analysis.model_validate(self.analyze_message(text))

    def conversation_analysis(self, turns: Iterable[Mapping[str, Any]]) -> Analysis:
        """`analyze_conversation`, typed (assist.schemas.Analysis)."""
        return Analysis.model_validate(self.analyze_conversation(turns))


@lru_cache(maxsize=1)
def default_analyzer() -> Analyzer:
    return Analyzer.load()


def analyze_message(text: str) -> dict[str, Any]:
    """Stateless: one message with the packaged data."""
    return default_analyzer().analyze_message(text)
