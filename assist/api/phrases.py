"""/phrases: the phrase bank for leads (everything) and agents (approved phrases of their team)."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, File, Path, Query, Response, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field

from assist.api.transfer import Format, export_response, read_upload
from assist.auth import Principal
from assist.bank import io
from assist.bank.feedback import FeedbackMemory
from assist.bank.schema import Lang, PhraseIn, Source, Status
from assist.bank.store import PhraseFilter
from assist.bounds import MAX_ROW_ID, CleanStr, Version
from assist.deps import LeadDep, PrincipalDep, SettingsDep, StoreDep, SuggesterDep, UsageDep
from assist.errors import PhraseNotFound, StoreUnavailable, responses
from assist.schemas.phrase import (
    BankStats,
    HistoryEntry,
    ImportReport,
    LearnedReset,
    PhraseLearned,
    PhrasePage,
    PhraseRecord,
    PhraseUsage,
)
from assist.suggest import Suggester

router = APIRouter(prefix="/phrases", tags=["phrases"])

PhraseId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="the phrase's id")]


class PhraseCreate(PhraseIn):
    status: Status = "draft"


class PhraseUpdate(BaseModel):
    """A partial change. `text` merges per language; an empty string removes that language. `examples` merges
    per language too."""

    model_config = ConfigDict(extra="forbid")
    version: Version = Field(description="the version you read; a stale one gets 409 with the current version")
    text: dict[Lang, str] | None = None
    situations: list[str] | None = None
    emotions: list[str] | None = None
    customer_types: list[str] | None = None
    technique: str | None = None
    teams: list[str] | None = None
    status: Status | None = None
    source: Source | None = None
    examples: dict[Lang, list[str]] | None = Field(
        None,
        description="customer messages the phrase answers; merges per language, a language's list "
        "replaces its examples and [] removes them",
    )


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status
    version: Version | None = None


class UsageEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event: Literal["shown", "used", "dismissed"]
    count: int = Field(1, ge=1, le=10_000)


def _visible(principal: Principal, f: PhraseFilter) -> PhraseFilter:
    """Agents and integrations see approved phrases that are unscoped or scoped to their team."""
    if principal.role != "lead":
        f.statuses = ["approved"]
        f.team = principal.team or ""
    return f


def _check_visible(principal: Principal, phrase: dict[str, Any]) -> None:
    if principal.role == "lead":
        return
    if phrase["status"] != "approved" or (phrase["teams"] and principal.team not in phrase["teams"]):
        raise PhraseNotFound(f"phrase {phrase['id']} not found")


@router.get("", response_model=PhrasePage)
def read_phrases(
    store: StoreDep,
    principal: PrincipalDep,
    lang: Lang | None = None,
    situation: Annotated[list[str] | None, Query()] = None,
    emotion: Annotated[list[str] | None, Query()] = None,
    customer_type: Annotated[list[str] | None, Query(description="dimension:label, e.g. trust:skeptical")] = None,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    team: Annotated[CleanStr | None, Query(max_length=64)] = None,
    q: Annotated[CleanStr | None, Query(max_length=200, description="text or key contains")] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """List phrases with filters and pagination."""
    f = PhraseFilter(
        lang=lang,
        situations=situation or (),
        emotions=emotion or (),
        customer_types=customer_type or (),
        statuses=status_ or (),
        team=team,
        q=q or None,
    )
    data, count = store.list(_visible(principal, f), offset, limit)
    return {"data": data, "count": count}


@router.post("", response_model=PhraseRecord, status_code=status.HTTP_201_CREATED, responses=responses(409))
def create_phrase(body: PhraseCreate, store: StoreDep, lead: LeadDep) -> dict[str, Any]:
    """Create a phrase (status draft unless given)."""
    return store.create(body, lead.name)


_EXPORT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The bank as a file in the chosen format",
        "content": {media: {"schema": {"type": "string"}} for media in io.MEDIA_TYPES.values()},
    }
}


@router.get("/export", response_class=Response, responses=_EXPORT)
def export_phrases(
    store: StoreDep,
    lead: LeadDep,
    format: Format = "yaml",
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
) -> Response:
    """Download the bank as YAML, CSV or JSONL (the import formats)."""
    entries = store.entries(PhraseFilter(statuses=status_ or ()))
    return export_response(io.dump(entries, format), format, "phrasebank")


@router.post("/import", response_model=ImportReport, responses=responses(409, 413))
async def import_phrases(
    store: StoreDep,
    settings: SettingsDep,
    lead: LeadDep,
    file: Annotated[UploadFile, File(description="YAML, CSV (UTF-8, UTF-8 with BOM or GBK) or JSONL")],
    format: Format | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Import phrases by key, all or nothing; `dry_run` checks without writing. store.import_entries logs
    progress every 1,000 rows."""
    fmt, parsed = await read_upload(file, settings, format, io.parse)
    report = await to_thread.run_sync(partial(store.import_entries, parsed.entries, lead.name, dry_run=dry_run))
    return {**report.as_dict(), "format": fmt, "encoding": parsed.encoding}


@router.get("/stats", response_model=BankStats)
def read_stats(usage: UsageDep, lead: LeadDep) -> dict[str, Any]:
    """Counts by status, language and label, and usage totals."""
    return usage.stats()


@router.get("/{phrase_id}", response_model=PhraseRecord, responses=responses(404))
def read_phrase(phrase_id: PhraseId, store: StoreDep, principal: PrincipalDep) -> dict[str, Any]:
    """One phrase."""
    phrase = store.get(phrase_id)
    _check_visible(principal, phrase)
    return phrase


@router.patch("/{phrase_id}", response_model=PhraseRecord, responses=responses(404, 409))
def update_phrase(phrase_id: PhraseId, body: PhraseUpdate, store: StoreDep, lead: LeadDep) -> dict[str, Any]:
    """Change fields of a phrase; `version` must be the one you read."""
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    return store.update(phrase_id, changes, body.version, lead.name)


@router.post("/{phrase_id}/status", response_model=PhraseRecord, responses=responses(404, 409))
def update_phrase_status(phrase_id: PhraseId, body: StatusChange, store: StoreDep, lead: LeadDep) -> dict[str, Any]:
    """Approve, retire or send back to draft."""
    return store.set_status(phrase_id, body.status, body.version, lead.name)


@router.delete("/{phrase_id}", response_model=PhraseRecord, responses=responses(404, 409))
def delete_phrase(
    phrase_id: PhraseId,
    store: StoreDep,
    lead: LeadDep,
    version: Annotated[int | None, Query(ge=0, le=MAX_ROW_ID)] = None,
) -> dict[str, Any]:
    """Retire a phrase (soft delete: it stays, with its history)."""
    return store.retire(phrase_id, version, lead.name)


@router.get("/{phrase_id}/history", response_model=list[HistoryEntry], responses=responses(404))
def read_phrase_history(phrase_id: PhraseId, store: StoreDep, lead: LeadDep) -> list[dict[str, Any]]:
    """Every change of a phrase, oldest first, with who, when, before and after."""
    return store.history(phrase_id)


@router.get("/{phrase_id}/usage", response_model=PhraseUsage, responses=responses(404))
def read_phrase_usage(
    phrase_id: PhraseId,
    store: StoreDep,
    usage: UsageDep,
    principal: PrincipalDep,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> dict[str, Any]:
    """Shown / used / dismissed per day and the acceptance rate."""
    _check_visible(principal, store.get(phrase_id))
    return usage.of(phrase_id, days)


@router.post("/{phrase_id}/usage", status_code=status.HTTP_204_NO_CONTENT, responses=responses(404))
def record_phrase_usage(
    phrase_id: PhraseId, body: UsageEvent, store: StoreDep, usage: UsageDep, principal: PrincipalDep
) -> None:
    """Count a suggestion shown, used or dismissed today."""
    _check_visible(principal, store.get(phrase_id))
    usage.record(phrase_id, body.event, body.count)


def _memory(suggester: Suggester) -> FeedbackMemory:
    if suggester.memory is None:
        raise StoreUnavailable("this service keeps no feedback memory")
    return suggester.memory


@router.get("/{phrase_id}/learned", response_model=PhraseLearned, responses=responses(404, 503))
def read_phrase_learned(phrase_id: int, suggester: SuggesterDep, lead: LeadDep) -> dict[str, Any]:
    """Agents' stored uses and dismissals of a phrase per team: what the ranking learns from."""
    return _memory(suggester).of(phrase_id)


@router.delete("/{phrase_id}/learned", response_model=LearnedReset, responses=responses(404, 503))
def reset_phrase_learned(phrase_id: int, suggester: SuggesterDep, lead: LeadDep) -> dict[str, Any]:
    """Forget every team's uses and dismissals of a phrase: the ranking stops favouring or sinking it."""
    return {"phrase_id": phrase_id, "removed": _memory(suggester).reset(phrase_id)}
