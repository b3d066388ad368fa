"""Conversation: per-conversation state updated message by message (context cues, trajectory, trend, profile)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from assist.analysis import learned as learned_models
from assist.analysis._text import similarity
from assist.analysis.customer_type import CustomerTypeClassifier
from assist.analysis.emotion import Cue, Emotion, Reading
from assist.analysis.hints import HintBook
from assist.errors import InvalidInput
from assist.languages import registry
from assist.schemas import analysis as schemas

if TYPE_CHECKING:
    from assist.analysis.analyzer import Analyzer

ROLES = ("customer", "agent")


@dataclass(slots=True)
class _Turn:
    message: int
    t: float
    grams: frozenset[str] = frozenset()
    emotion: Emotion | None = None


@dataclass(slots=True)
class Analysis:
    """The state after one message: what `to_dict` of the conversation returns at that point."""

    message: int
    role: str
    lang: str
    mixed: bool
    truncated: bool
    emotion: Emotion | None
    trajectory: list[dict[str, Any]]
    trend: str
    customer: dict[str, dict[str, Any]]
    hints: list[dict[str, Any]] = field(default_factory=list)
    situations: list[dict[str, Any]] = field(default_factory=list)
    model: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        emotion = (
            self.emotion.as_dict()
            if self.emotion
            else {"label": "neutral", "intensity": 0.0, "scores": {}, "cues": [], "source": "rules"}
        )
        return {
            "lang": self.lang,
            "mixed": self.mixed,
            "truncated": self.truncated,
            "message": self.message,
            "role": self.role,
            "emotion": emotion,
            "trajectory": self.trajectory,
            "trend": self.trend,
            "customer": self.customer,
            "hints": self.hints,
            "situations": self.situations,
            "model": self.model,
        }

    def to_model(self) -> schemas.Analysis:
        """The typed form of `to_dict()` (assist.schemas.Analysis), as the hub and the API pass it on."""
        return schemas.Analysis.model_validate(self.to_dict())


class Conversation:
    """Call `add(role, text, t)` once per message; bounded windows keep each call about O(1)."""

    def __init__(self, analyzer: Analyzer, default_lang: str = "en", encode: bool = True) -> None:
        self.analyzer = analyzer
        self.encode = encode  # False: a message given no vector is read by the rules alone (replays)
        self.detector = analyzer.detector
        self.conf = analyzer.data.conversation
        self.th = self.conf.thresholds
        self.hints = HintBook(analyzer.data.hints, self.th)
        self.profile = CustomerTypeClassifier(self.conf)
        self.lang = default_lang
        self.mixed = False
        self._n = 0
        self._last_t = 0.0
        self._last_role: str | None = None
        self._last_agent: tuple[int, float, bool, bool] | None = None  # message, t, refused, asked
        self._customers: deque[_Turn] = deque(maxlen=self.th.repetition_window)
        self._run: deque[float] = deque(maxlen=self.th.burst_messages)  # customer times since the agent spoke
        self._trajectory: deque[dict[str, Any]] = deque(maxlen=self.th.trajectory_max)
        self._last: Analysis | None = None
        self._situations: list[dict[str, Any]] = []
        self._model: dict[str, Any] | None = None  # the latest customer message's `model` (Analyzer.model_brief)

    def add(self, role: str, text: str, t: float | None = None, vector: np.ndarray | None = None) -> Analysis:
        """Read one message. `vector`: the configured encoder's query embedding of a customer message (the hub
        encodes once for retrieval and analysis); without it an analyzer that `wants_vector` encodes itself."""
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        t = self._last_t if t is None else float(t)
        message = self._n
        self._n += 1
        r = self.detector.read(text, message, default_lang=self.lang)
        if r.lang.units:
            lang = r.lang.lang
            # A message that reads the same in the conversation's code (嗯嗯, 好吧 in zh-Hant) keeps that code.
            keep = registry().converter(lang, self.lang) if lang != self.lang and lang in registry().by_code else None
            if keep is not None and keep(r.text) == r.text:
                lang = self.lang
            self.lang, self.mixed = lang, r.lang.mixed
        if role == "agent":
            self._last_agent = (message, t, r.refusal, r.question)
            self._run.clear()
            self._last_role, self._last_t = role, t
            self._last = self._snapshot(message, role, r.truncated, self._last.emotion if self._last else None)
            return self._last
        if self.analyzer.wants_vector:
            if vector is None and self.encode:
                vector = self.analyzer.encode(r.text)
        else:
            vector = None
        emotion = self._customer(r, t, vector)
        self._situations = self.analyzer.situations(r.text, self.lang, vector)
        self._model = self.analyzer.model_brief(r.text)  # which learned file read it (an encoder per language)
        self._last_role, self._last_t = role, t
        self._last = self._snapshot(message, role, r.truncated, emotion)
        return self._last

    def _customer(self, r: Reading, t: float, vector: np.ndarray | None = None) -> Emotion:
        prev = self._customers[-1] if self._customers else None
        cues = list(r.cues)
        cues.extend(self._sarcasm(r, prev))
        g = r.grams()
        cues.extend(self._repetition(r, g))
        self._run.append(t)
        cues.extend(self._burst(r))
        cues.extend(self._silence(r, t))
        cues.sort(key=lambda c: (c.start, c.kind))
        carry: dict[str, float] = {}
        if (
            prev is not None
            and prev.emotion is not None
            and not r.emotion_hits
            and t - prev.t <= self.th.carry_max_gap_s
        ):
            neg = set(self.conf.negative_emotions)
            carry = {k: v * self.th.carry_decay for k, v in prev.emotion.raw.items() if k in neg and v > 0}
        if self._after_refusal():
            for label, w in self.conf.after_refusal.items():
                carry[label] = carry.get(label, 0.0) + w
        emotion = self.detector.score(r, cues, carry)
        learned = self.analyzer.learned_for(r.text) if vector is not None else None
        if vector is not None and learned is not None:
            emotion = self._fuse(learned, emotion, vector, r.text)
        self.profile.update(r, cues)
        self._customers.append(
            _Turn(r.message, t, g if len(g) >= self.th.repetition_min_grams else frozenset(), emotion)
        )
        self._trajectory.append({"message": r.message, "t": t, "label": emotion.label, "intensity": emotion.intensity})
        return emotion

    @staticmethod
    def _fuse(learned: learned_models.LearnedModels, rules: Emotion, vector: np.ndarray, text: str) -> Emotion:
        """The learned model's reading, given the rules' scores and cues (docs/analysis.md § Learned models).
        `raw` stays the rules' weights: what carries to the next message."""
        probs = learned.emotion_proba(vector, rules.scores, {c.kind for c in rules.cues}, text=text)
        label = max(probs, key=lambda e: (probs[e], e == "neutral"))
        return Emotion(
            label,
            learned_models.intensity(probs, label, rules.boost),
            {e: round(p, 3) for e, p in probs.items()},
            rules.cues,
            rules.raw,
            rules.boost,
            "model+rules",
        )

    def _after_refusal(self) -> bool:
        return self._last_role == "agent" and self._last_agent is not None and self._last_agent[2]

    def _sarcasm(self, r: Reading, prev: _Turn | None) -> list[Cue]:
        if not r.sarcasm_candidates:
            return []
        after_refusal = self._after_refusal()
        neg = set(self.conf.negative_emotions)
        after_complaint = (
            self._last_role == "customer"
            and prev is not None
            and prev.emotion is not None
            and prev.emotion.label in neg
        )
        if after_refusal or after_complaint or self.detector.negative_alone(r):
            return list(r.sarcasm_candidates)
        return []

    def _repetition(self, r: Reading, g: frozenset[str]) -> list[Cue]:
        if len(g) < self.th.repetition_min_grams:
            return []
        best: tuple[float, int] | None = None
        for turn in self._customers:
            if not turn.grams:
                continue
            containment, jaccard = similarity(g, turn.grams)
            if (
                containment >= self.th.repetition_containment
                and jaccard >= self.th.repetition_jaccard
                and (best is None or jaccard > best[0])
            ):
                best = (jaccard, turn.message)
        if best is None:
            return []
        return [Cue("repetition", r.text, 0, len(r.text), r.message, ref=(best[1],))]

    def _burst(self, r: Reading) -> list[Cue]:
        run = self._run
        if len(run) < self.th.burst_messages or run[-1] - run[0] > self.th.burst_window_s:
            return []
        if any(b - a > self.th.burst_gap_s for a, b in zip(run, list(run)[1:], strict=False)):
            return []
        first = self._n - len(run)
        return [Cue("burst", r.text, 0, len(r.text), r.message, ref=tuple(range(max(first, 0), r.message)))]

    def _silence(self, r: Reading, t: float) -> list[Cue]:
        if self._last_role != "agent" or self._last_agent is None:
            return []
        agent_msg, agent_t, _, asked = self._last_agent
        if not asked or t - agent_t < self.th.silence_gap_s:  # a wait after "let me check" is the agent's
            return []
        return [Cue("silence", r.text, 0, len(r.text), r.message, ref=(agent_msg,))]

    def trend(self) -> str:
        neg = set(self.conf.negative_emotions)
        levels = [
            (p["intensity"] if p["label"] in neg else -p["intensity"] if p["label"] == "satisfaction" else 0.0)
            for p in list(self._trajectory)[-3:]
        ]
        if len(levels) < 2:
            return "steady"
        delta = levels[-1] - sum(levels[:-1]) / len(levels[:-1])
        if delta >= self.th.trend_delta:
            return "escalating"
        if delta <= -self.th.trend_delta:
            return "calming"
        return "steady"

    def _snapshot(self, message: int, role: str, truncated: bool, emotion: Emotion | None) -> Analysis:
        customer = self.profile.to_dict()
        a = Analysis(
            message,
            role,
            self.lang,
            self.mixed,
            truncated,
            emotion,
            list(self._trajectory),
            self.trend(),
            customer,
            situations=self._situations,
            model=self._model if self._model is not None else self.analyzer.model_brief(),
        )
        if emotion is not None:
            a.hints = self.hints.select(emotion.as_dict(), customer, self.lang)
        else:
            a.hints = self.hints.select({"label": "neutral", "intensity": 0.0}, customer, self.lang)
        return a

    def to_dict(self) -> dict[str, Any]:
        if self._last is None:
            return self._snapshot(-1, "customer", False, None).to_dict()
        return self._last.to_dict()
