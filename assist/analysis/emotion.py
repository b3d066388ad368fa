"""EmotionDetector: reads one message (language, cues, lexicon hits) and scores its emotion from weights."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from assist.analysis._text import clean, grams, is_content, size
from assist.analysis.loader import AnalysisData, LangPack
from assist.analysis.matcher import Hit
from assist.analysis.schema import EmotionEntry, SignalEntry
from assist.analysis.valence import backend
from assist.languages import LangGuess, registry
from assist.vocab import EMOTIONS

# Cues that make a message's praise read as sarcasm (a complaint beside it).
_COMPLAINT_CUES = frozenset({"sigh", "insult", "threat", "escalation", "repetition"})


@dataclass(slots=True)
class Cue:
    kind: str
    text: str
    start: int
    end: int
    message: int
    ref: tuple[int, ...] = ()  # earlier messages a conversation-level cue points at

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "message": self.message,
        }
        if self.ref:
            out["ref"] = list(self.ref)
        return out


@dataclass(slots=True)
class Emotion:
    label: str
    intensity: float
    scores: dict[str, float]
    cues: list[Cue]
    raw: dict[str, float]
    boost: float = 0.0  # the cues' intensity boost
    source: str = "rules"  # "rules" or "model+rules"

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "intensity": self.intensity,
            "scores": self.scores,
            "cues": [c.as_dict() for c in self.cues],
            "source": self.source,
        }


@dataclass(slots=True)
class Reading:
    """One message read on its own; the conversation adds context before scoring."""

    text: str
    norm: str
    lang: LangGuess
    truncated: bool
    message: int
    size: int
    emotion_hits: list[tuple[Hit[EmotionEntry], float]] = field(default_factory=list)  # hit, clause factor
    cues: list[Cue] = field(default_factory=list)
    sarcasm_candidates: list[Cue] = field(default_factory=list)  # praise that is sarcasm only in context
    signal_hits: list[Hit[SignalEntry]] = field(default_factory=list)
    refusal: bool = False
    question: bool = False
    valence: float | None = None

    def grams(self) -> frozenset[str]:
        return grams(self.norm)


def _is_whole(text: str, start: int, end: int) -> bool:
    return not any(is_content(c) for c in text[:start]) and not any(is_content(c) for c in text[end:])


class EmotionDetector:
    def __init__(self, data: AnalysisData) -> None:
        self.data = data
        self.conf = data.conversation
        self.th = data.conversation.thresholds
        self._contrast = {p.name: re.compile(p.manifest.contrast, re.I) for p in data.packs if p.manifest.contrast}

    def _packs(self, guess: LangGuess) -> list[LangPack]:
        return [p for p in self.data.packs if p.language is None or guess.units.get(p.language, 0) > 0]

    def read(self, text: str, message: int = 0, default_lang: str = "en") -> Reading:
        text, truncated = clean(text if isinstance(text, str) else "", self.th.max_chars)
        languages = registry()
        guess = languages.detect(text, default=default_lang)
        packs = self._packs(guess)
        norm = text
        for pack in packs:
            if pack.language is not None:
                norm = languages.by_name[pack.language].normalize(norm)
        r = Reading(text=text, norm=norm, lang=guess, truncated=truncated, message=message, size=size(text))
        for pack in packs:
            self._read_pack(r, pack)
        r.cues.sort(key=lambda c: (c.start, c.kind))
        return r

    def _read_pack(self, r: Reading, pack: LangPack) -> None:
        contrast = self._contrast.get(pack.name)
        pivot = -1
        if contrast:
            for m in contrast.finditer(r.norm):
                pivot = m.start()
        cf = pack.manifest.contrast_factor
        for hit in pack.emotion_matcher.find(r.norm):
            clause = 1.0 if pivot < 0 else (cf if hit.start > pivot else 1 / cf)
            r.emotion_hits.append((hit, clause))
        for cue_hit in pack.cue_matcher.find(r.norm):
            entry = cue_hit.entry
            if cue_hit.negated or (entry.whole and not _is_whole(r.text, cue_hit.start, cue_hit.end)):
                continue
            cue = Cue(entry.kind, r.text[cue_hit.start : cue_hit.end], cue_hit.start, cue_hit.end, r.message)
            (r.sarcasm_candidates if entry.context == "negative" else r.cues).append(cue)
        r.signal_hits.extend(h for h in pack.signal_matcher.find(r.norm) if not h.negated)
        r.refusal = r.refusal or bool(pack.refusal_matcher.find(r.norm))
        r.question = r.question or bool(pack.question_matcher.find(r.norm))
        valence = pack.manifest.valence
        if valence is not None and r.text.strip():
            r.valence = backend(valence.backend)(r.text)

    def negative_alone(self, r: Reading) -> bool:
        """Does the message complain by itself (negative words or complaint cues)?"""
        neg = set(self.conf.negative_emotions)
        if any(c.kind in _COMPLAINT_CUES for c in r.cues):
            return True
        for hit, _ in r.emotion_hits:
            weights = self._weights(hit)
            if any(weights.get(e, 0) > 0 for e in neg):
                return True
        return False

    def _weights(self, hit: Hit[EmotionEntry]) -> dict[str, float]:
        if not hit.negated:
            return hit.entry.emotion
        if hit.entry.negated is not None:
            return hit.entry.negated
        out: dict[str, float] = {}
        for label, w in hit.entry.emotion.items():
            for target, tw in self._negated_default(label).items():
                out[target] = out.get(target, 0.0) + w * tw
        return out

    def _negated_default(self, label: str) -> dict[str, float]:
        for pack in self.data.packs:
            if label in pack.emotion.negated:
                return pack.emotion.negated[label]
        return {}

    def score(self, r: Reading, cues: list[Cue], carry: dict[str, float] | None = None) -> Emotion:
        """Primary label, intensity and per-label scores from lexicon hits, cue effects, valence and carry."""
        raw = dict.fromkeys(EMOTIONS, 0.0)
        sarcastic = any(c.kind == "sarcasm" and c.message == r.message for c in cues)
        neg_labels = set(self.conf.negative_emotions)
        # One entry is one concept: it counts once per message, at its strongest hit.
        best: dict[tuple[str, str], float] = {}
        for hit, clause in r.emotion_hits:
            for label, w in self._weights(hit).items():
                if sarcastic and label not in neg_labels:
                    continue  # praise in a sarcastic message is not satisfaction
                key = (hit.entry.id, label)
                best[key] = max(best.get(key, 0.0), w * hit.factor * clause)
        for (_, label), w in best.items():
            raw[label] += w
        boost = 0.0
        for kind in {c.kind for c in cues}:
            effect = self.conf.cue_effects.get(kind)
            if effect is not None:
                for label, w in effect.emotion.items():
                    raw[label] += w
                boost += effect.intensity
        exclaims = sum(1 for c in cues if c.kind == "exclamation")
        boost += 0.05 * min(max(exclaims - 1, 0), 3)
        negative = sum(raw[e] for e in neg_labels)
        self._add_valence(r, raw, negative, sarcastic)
        if carry:
            for label, w in carry.items():
                raw[label] += w
        raw["neutral"] = max(raw["neutral"], self.th.neutral_base)
        label = max(EMOTIONS, key=lambda e: (raw[e], e == "neutral"))
        total = sum(raw.values())
        scores = {e: round(raw[e] / total, 3) for e in EMOTIONS}
        if label == "neutral":
            intensity = 0.0
        else:
            intensity = 1 - math.exp(-self.th.intensity_rate * raw[label]) + boost
        return Emotion(label, round(min(max(intensity, 0.0), 1.0), 3), scores, cues, raw, boost)

    def _add_valence(self, r: Reading, raw: dict[str, float], negative: float, sarcastic: bool) -> None:
        if r.valence is None:
            return
        for pack in self._packs(r.lang):
            spec = pack.manifest.valence
            if spec is None or abs(r.valence) < spec.min_abs:
                continue
            if r.valence < 0:
                for label, w in spec.negative.items():
                    raw[label] += w * -r.valence
            elif not sarcastic and negative == 0:
                for label, w in spec.positive.items():
                    raw[label] += w * r.valence
            return
