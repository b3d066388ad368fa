"""Load and validate the analysis data through importlib.resources; a bad file raises naming itself."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from assist.analysis.matcher import Matcher
from assist.analysis.schema import (
    ConversationFile,
    CueEntry,
    CueFile,
    EmotionEntry,
    EmotionFile,
    Entry,
    HintFile,
    Manifest,
    SignalEntry,
    SignalFile,
)
from assist.errors import AssistError

M = TypeVar("M", bound=BaseModel)


class AnalysisDataInvalid(AssistError):
    status, code = 500, "analysis_data_invalid"


@dataclass(frozen=True)
class LangPack:
    """One data folder (`data/<name>/`): its manifest and compiled matchers."""

    name: str
    manifest: Manifest
    emotion: EmotionFile
    cues: CueFile
    signals: SignalFile
    emotion_matcher: Matcher[EmotionEntry]
    cue_matcher: Matcher[CueEntry]
    refusal_matcher: Matcher[Entry]
    question_matcher: Matcher[Entry]
    signal_matcher: Matcher[SignalEntry]


@dataclass(frozen=True)
class AnalysisData:
    packs: tuple[LangPack, ...]
    conversation: ConversationFile
    hints: HintFile


def _root() -> Traversable:
    return resources.files("assist.analysis").joinpath("data")


def _read(path: Traversable, model: type[M], required: bool = True) -> M:
    if not path.is_file():
        if required:
            raise AnalysisDataInvalid(f"analysis data file missing: {path}")
        return model()
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        return model.model_validate(raw or {})
    except yaml.YAMLError as exc:
        raise AnalysisDataInvalid(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        raise AnalysisDataInvalid(f"{path}: {_ids(raw, exc)}{exc}") from exc


def _ids(raw: Any, exc: ValidationError) -> str:
    """Name the entries the errors are in (`entries.3` means little to a curator)."""
    ids = []
    for err in exc.errors():
        loc = err["loc"]
        if len(loc) >= 2 and isinstance(raw, dict) and isinstance(loc[1], int):
            try:
                ids.append(str(raw[loc[0]][loc[1]]["id"]))
            except (KeyError, IndexError, TypeError):
                continue
    return f"entry {', '.join(dict.fromkeys(ids))}: " if ids else ""


def load_pack(folder: Traversable) -> LangPack:
    manifest = _read(folder.joinpath("lang.yml"), Manifest)
    emotion = _read(folder.joinpath("emotion.yml"), EmotionFile, required=False)
    cues = _read(folder.joinpath("cues.yml"), CueFile, required=False)
    signals = _read(folder.joinpath("customer_type.yml"), SignalFile, required=False)
    ids = [e.id for e in (*emotion.entries, *cues.entries, *cues.refusals, *cues.questions, *signals.entries)]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise AnalysisDataInvalid(f"{folder}: duplicate entry ids {dupes}")
    return LangPack(
        name=folder.name,
        manifest=manifest,
        emotion=emotion,
        cues=cues,
        signals=signals,
        emotion_matcher=Matcher(emotion.entries, manifest),
        cue_matcher=Matcher(cues.entries, manifest),
        refusal_matcher=Matcher(cues.refusals, manifest),
        question_matcher=Matcher(cues.questions, manifest),
        signal_matcher=Matcher(signals.entries, manifest),
    )


def load_data(root: Traversable | None = None) -> AnalysisData:
    """Every folder under data/ with a lang.yml is a language pack; plus conversation.yml and hints.yml."""
    root = root or _root()
    folders = sorted((p for p in root.iterdir() if p.is_dir() and p.joinpath("lang.yml").is_file()),
                     key=lambda p: p.name)
    if not folders:
        raise AnalysisDataInvalid(f"no language folders with lang.yml under {root}")
    return AnalysisData(
        packs=tuple(load_pack(f) for f in folders),
        conversation=_read(root.joinpath("conversation.yml"), ConversationFile),
        hints=_read(root.joinpath("hints.yml"), HintFile),
    )
