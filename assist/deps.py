"""Dependency aliases that route signatures read as plain English."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from assist.analysis import Analyzer
from assist.auth import OPEN_ACCESS, Principal, TokenStore, check_open_request, principal_for
from assist.bank.store import PhraseStore
from assist.bank.usage import UsageStore
from assist.config import Settings
from assist.errors import StoreUnavailable
from assist.gate import GATE_PRINCIPAL
from assist.guard.service import GuardService
from assist.hub import Hub
from assist.rewrite import Rewriter
from assist.suggest import Suggester

_bearer = HTTPBearer(auto_error=False, description="API token (`assist token create --role ...`)")


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.state.settings
    return settings


def get_store(request: Request) -> PhraseStore:
    store: PhraseStore = request.state.store
    return store


def get_usage(request: Request) -> UsageStore:
    usage: UsageStore = request.state.usage
    return usage


def get_tokens(request: Request) -> TokenStore:
    tokens: TokenStore = request.state.tokens
    return tokens


def get_rewriter(request: Request) -> Rewriter:
    rewriter: Rewriter = request.state.rewriter
    return rewriter


def get_analyzer(request: Request) -> Analyzer:
    analyzer: Analyzer = request.state.analyzer
    return analyzer


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
StoreDep = Annotated[PhraseStore, Depends(get_store)]
UsageDep = Annotated[UsageStore, Depends(get_usage)]
AnalyzerDep = Annotated[Analyzer, Depends(get_analyzer)]
RewriterDep = Annotated[Rewriter, Depends(get_rewriter)]
TokensDep = Annotated[TokenStore, Depends(get_tokens)]


def get_principal(
    request: Request,
    settings: SettingsDep,
    tokens: TokensDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    secret = credentials.credentials if credentials is not None else None
    checked = getattr(request.state, GATE_PRINCIPAL, None)
    if checked is not None and checked[0] == secret:  # assist.gate verified this very secret for this request
        principal: Principal = checked[1]
        return principal
    principal = principal_for(settings, tokens, secret)
    if principal is OPEN_ACCESS:
        check_open_request(settings, request.headers.get("host"), request.headers.get("origin"))
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_lead(principal: PrincipalDep) -> Principal:
    principal.require("lead")
    return principal


LeadDep = Annotated[Principal, Depends(require_lead)]


def get_suggester(request: Request) -> Suggester:
    suggester: Suggester = request.state.suggester
    return suggester


SuggesterDep = Annotated[Suggester, Depends(get_suggester)]


def get_hub(request: Request) -> Hub:
    hub: Hub = request.state.hub
    return hub


HubDep = Annotated[Hub, Depends(get_hub)]


def get_guard(request: Request) -> GuardService:
    guard: GuardService | None = getattr(request.state, "guard", None)
    if guard is None:  # services built without a guard
        raise StoreUnavailable("the pre-send guard is not running in this service")
    return guard


GuardDep = Annotated[GuardService, Depends(get_guard)]
