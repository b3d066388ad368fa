"""A phrase as the bank gives it out, with its history, usage and the bank's reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from assist.bank.schema import PhraseFields, Status


class PhraseRecord(PhraseFields):
    """A stored phrase: its labels, texts per language (`derived` ones made by OpenCC), status and version."""

    id: int
    key: str
    text: dict[str, str]
    derived: list[str] = Field(description="languages made with OpenCC from the other Chinese script")
    placeholders: list[str]
    status: Status
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    version: int


class PhrasePage(BaseModel):
    data: list[PhraseRecord]
    count: int


class HistoryEntry(BaseModel):
    id: int
    action: str
    actor: str
    at: datetime
    version: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class UsageTotals(BaseModel):
    shown: int
    used: int
    dismissed: int
    acceptance_rate: float | None = Field(description="used / shown; null before anything was shown")


class UsageDay(BaseModel):
    day: date
    shown: int
    used: int
    dismissed: int


class PhraseUsage(BaseModel):
    phrase_id: int
    days: list[UsageDay]
    totals: UsageTotals


class PhraseCounts(BaseModel):
    total: int
    by_status: dict[str, int]
    by_lang: dict[str, int]


class TopUsed(UsageTotals):
    phrase_id: int


class BankStats(BaseModel):
    phrases: PhraseCounts
    approved_by_label: dict[str, dict[str, int]] = Field(description="label kind -> label -> approved phrases")
    usage: UsageTotals
    top_used: list[TopUsed]


class ImportKeys(BaseModel):
    created: list[str]
    updated: list[str]


class ImportReport(BaseModel):
    dry_run: bool
    created: int
    updated: int
    unchanged: int
    keys: ImportKeys
    format: str
    encoding: str | None


class TeamLearned(BaseModel):
    team: str | None = Field(description="null: agents without a team")
    used: int
    dismissed: int
    last_at: float | None = Field(description="the latest event, seconds since the epoch")


class PhraseLearned(BaseModel):
    """What agents did with a phrase, as the ranking learns it (every stored use and dismissal, per team)."""

    phrase_id: int
    learning: bool = Field(description="whether the ranking uses it (ASSIST_FEEDBACK__LEARN)")
    half_life_days: float = Field(description="an event counts half as much in the ranking after this many days")
    used: int
    dismissed: int
    teams: list[TeamLearned]


class LearnedReset(BaseModel):
    phrase_id: int
    removed: int = Field(description="stored uses and dismissals forgotten")
