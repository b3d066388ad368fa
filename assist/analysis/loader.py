"""Load and validate the analysis data: each registered language's `analysis/` folder and the shared files."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import TypeVar

from pydantic import BaseModel

from assist import datafile
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
from assist.datafile import DataFileInvalid
from assist.languages import registry

M = TypeVar("M", bound=BaseModel)


AnalysisDataInvalid = DataFileInvalid  # the one data-file error (assist.datafile)
ANALYSIS_FOLDER = "analysis"
MATCHING_FILE = "matching.yml"


@dataclass(frozen=True)
class LangPack:
    """One analysis folder (a language's `analysis/`, or `data/common/`): its matching and compiled matchers."""

    name: str
    language: str | None  # the registry language it reads, None for every message
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
    return datafile.load(path, model, required=required)


def load_pack(folder: Traversable, language: str | None = None, name: str | None = None) -> LangPack:
    """One analysis folder; `language` names the registry language whose messages it reads (None: every one)."""
    manifest = _read(folder.joinpath(MATCHING_FILE), Manifest, required=False)
    emotion = _read(folder.joinpath("emotion.yml"), EmotionFile, required=False)
    cues = _read(folder.joinpath("cues.yml"), CueFile, required=False)
    signals = _read(folder.joinpath("customer_type.yml"), SignalFile, required=False)
    ids = [e.id for e in (*emotion.entries, *cues.entries, *cues.refusals, *cues.questions, *signals.entries)]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise AnalysisDataInvalid(f"{datafile.where(folder)}: duplicate entry ids {dupes}")
    return LangPack(
        name=name or folder.name,
        language=language,
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
    """Every registered language's `analysis/` folder, plus the language-independent `common/` pack,
    `conversation.yml` and `hints.yml` of `root` (the package's analysis data by default)."""
    root = root or _root()
    packs = [load_pack(folder, lg.name, lg.name) for lg, folder in registry().data(ANALYSIS_FOLDER)]
    common = root.joinpath("common")
    if common.is_dir():
        packs.append(load_pack(common))
    packs.sort(key=lambda p: p.name)  # the order they always had (common, en, zh): ties resolve the same way
    if not packs:
        raise AnalysisDataInvalid(f"no analysis data: no language has an {ANALYSIS_FOLDER}/ folder")
    return AnalysisData(
        packs=tuple(packs),
        conversation=_read(root.joinpath("conversation.yml"), ConversationFile),
        hints=_read(root.joinpath("hints.yml"), HintFile),
    )
