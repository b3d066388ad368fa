"""/check (every role): a draft's guard hits and rewrite before it is sent; /guard/rules (leads): the forbidden
expressions and must-say checks, with import/export and history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, File, Query, Response, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field

from assist.api.rewrite import MAX_DRAFT_CHARS
from assist.api.transfer import Format, export_response, read_upload
from assist.bank.schema import Lang, Team
from assist.deps import GuardDep, HubDep, LeadDep, PrincipalDep, SettingsDep
from assist.errors import Forbidden, responses
from assist.guard import io
from assist.guard.schema import Category, Expression, GuardRuleIn, Kind, RuleStatus, Severity, When
from assist.guard.service import conversation_messages, draft_lang, replies_of
from assist.protocol import ConversationId
from assist.schemas._base import Schema
from assist.schemas.guard import CheckResult

router = APIRouter(tags=["guard"])


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=MAX_DRAFT_CHARS, description="the draft as the agent typed it")
    conversation_id: ConversationId | None = Field(
        None, description="the conversation the draft answers: must-say checks read the agent's earlier replies"
    )
    team: Team | None = Field(None, description="whose rules apply (default: the token's team)")
    lang: Literal["auto"] | Lang = Field("auto", description="auto (detect) or a registered language code")


@router.post("/check", response_model=CheckResult, responses=responses(413))
async def check_draft(body: CheckIn, guard: GuardDep, hub: HubDep, principal: PrincipalDep) -> dict[str, Any]:
    """Check a draft before it is sent: forbidden expressions and must-say checks (`allowed` is false when a
    `block` rule hits), and the rewrite with its changes and flags (flags carry bank phrases)."""
    team = principal.team
    if body.team is not None and body.team != principal.team:
        if principal.role == "agent":
            raise Forbidden("an agent's drafts are checked with the rules of the token's team")
        team = body.team
    messages = await conversation_messages(hub, body.conversation_id, principal)
    replies = None if messages is None else replies_of(messages)
    lang = draft_lang(body.text, messages) if body.lang == "auto" else body.lang
    return await to_thread.run_sync(lambda: guard.check(body.text, lang, replies, team))


# ---- rules ----------------------------------------------------------------------------------------


class GuardSource(Schema):
    seed: str
    principle: str


class GuardRuleRecord(Schema):
    id: int
    key: str
    kind: Kind
    category: str
    severity: Severity
    phrases: list[str]
    exceptions: list[str]
    when: When | None
    triggers: list[str]
    reply: int | None
    teams: list[str]
    langs: list[str]
    why: str
    source: GuardSource | None
    status: RuleStatus
    version: int
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime


class GuardHistoryEntry(Schema):
    id: int
    action: str = Field(description="create | update | delete (retired)")
    actor: str
    at: datetime
    version: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class GuardImportReport(Schema):
    dry_run: bool
    created: int
    updated: int
    unchanged: int
    keys: dict[str, list[str]]
    format: str
    encoding: str


class GuardRuleUpdate(BaseModel):
    """A partial change; `version` is the one you read (a stale one gets 409 with the current version)."""

    model_config = ConfigDict(extra="forbid")
    version: int
    kind: Kind | None = None
    category: Category | None = None
    severity: Severity | None = None
    phrases: list[Expression] | None = None
    exceptions: list[Expression] | None = None
    when: When | None = None
    triggers: list[Expression] | None = None
    reply: int | None = None
    teams: list[Team] | None = None
    langs: list[Lang] | None = None
    why: str | None = None
    source: GuardSource | None = None
    status: RuleStatus | None = None


@router.get("/guard/rules", response_model=list[GuardRuleRecord])
def read_rules(
    guard: GuardDep,
    lead: LeadDep,
    kind: Kind | None = None,
    category: str | None = None,
    status_: Annotated[RuleStatus | None, Query(alias="status")] = None,
    team: str | None = None,
    q: Annotated[str | None, Query(max_length=200, description="key, category or phrase contains (folded)")] = None,
) -> list[dict[str, Any]]:
    """Every rule, with filters (team: the rules that apply to that team)."""
    return guard.store.list(kind, category, status_, team, q)


@router.post(
    "/guard/rules", response_model=GuardRuleRecord, status_code=status.HTTP_201_CREATED, responses=responses(409)
)
def create_rule(body: GuardRuleIn, guard: GuardDep, lead: LeadDep) -> dict[str, Any]:
    """Create a forbidden expression or a must-say check; every instance applies it at once."""
    return guard.store.create(body, lead.name)


_EXPORT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The rules as a file in the chosen format",
        "content": {media: {"schema": {"type": "string"}} for media in io.MEDIA_TYPES.values()},
    }
}


@router.get("/guard/export", response_class=Response, responses=_EXPORT)
def export_rules(
    guard: GuardDep,
    lead: LeadDep,
    format: Format = "yaml",
    status_: Annotated[RuleStatus | None, Query(alias="status")] = None,
) -> Response:
    """Download the rules as YAML, CSV or JSONL (the import formats)."""
    return export_response(io.dump(guard.store.entries(status_), format), format, "guard")


@router.post("/guard/import", response_model=GuardImportReport, responses=responses(409, 413))
async def import_rules(
    guard: GuardDep,
    settings: SettingsDep,
    lead: LeadDep,
    file: Annotated[UploadFile, File(description="YAML, CSV (UTF-8, UTF-8 with BOM or GBK) or JSONL")],
    format: Format | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Import rules by key, all or nothing; `dry_run` checks without writing."""
    fmt, parsed = await read_upload(file, settings, format, io.parse)
    report = await to_thread.run_sync(lambda: guard.store.import_entries(parsed.entries, lead.name, dry_run=dry_run))
    return {**report.as_dict(), "format": fmt, "encoding": parsed.encoding}


@router.get("/guard/rules/{rule_id}", response_model=GuardRuleRecord, responses=responses(404))
def read_rule(rule_id: int, guard: GuardDep, lead: LeadDep) -> dict[str, Any]:
    return guard.store.get(rule_id)


@router.patch("/guard/rules/{rule_id}", response_model=GuardRuleRecord, responses=responses(404, 409))
def update_rule(rule_id: int, body: GuardRuleUpdate, guard: GuardDep, lead: LeadDep) -> dict[str, Any]:
    """Change fields of a rule; `version` must be the one you read."""
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    return guard.store.update(rule_id, changes, body.version, lead.name)


@router.delete("/guard/rules/{rule_id}", response_model=GuardRuleRecord, responses=responses(404, 409))
def delete_rule(rule_id: int, guard: GuardDep, lead: LeadDep, version: int | None = None) -> dict[str, Any]:
    """Retire a rule (soft delete: it stays, with its history, and stops applying)."""
    return guard.store.retire(rule_id, version, lead.name)


@router.get("/guard/rules/{rule_id}/history", response_model=list[GuardHistoryEntry], responses=responses(404))
def read_rule_history(rule_id: int, guard: GuardDep, lead: LeadDep) -> list[dict[str, Any]]:
    """Every change of a rule, oldest first, with who, when, before and after."""
    return guard.store.history(rule_id)
