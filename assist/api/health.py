"""Liveness and store health."""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import text

from assist import __version__
from assist.deps import StoreDep
from assist.errors import BrokerUnavailable, StoreUnavailable, responses
from assist.languages import registry
from assist.vocab import CUE_KINDS, EMOTIONS, PHRASE_STATUSES, PROFILE_LABELS, SITUATIONS, TECHNIQUES

router = APIRouter(tags=["health"])


class ModelStatus(BaseModel):
    name: str
    ready: bool = Field(description="loaded; until then English leans on the lexical channel")
    traced: bool = Field(description="running as a TorchScript trace")
    langs: list[str] = Field(
        default_factory=list,
        description="the languages routed to this encoder (retrieval.lang_models); empty for the default one, "
        "which reads every other language",
    )


class SkippedPhrase(BaseModel):
    id: int
    key: str | None
    reason: str


class Health(BaseModel):
    status: str = Field(description="ok, or degraded when stored phrases had to be skipped")
    version: str
    store: str = Field(description="the store's SQL dialect: sqlite or postgresql")
    model: ModelStatus = Field(description="the default encoder (retrieval.model_name)")
    models: list[ModelStatus] = Field(
        default_factory=list,
        description="every encoder, the default one first, then those of languages routed to another "
        "(retrieval.lang_models); a language's dense channel joins when its encoder is ready",
    )
    skipped_phrases: list[SkippedPhrase] = Field(
        default_factory=list,
        description="stored phrases that cannot be read or indexed: left out of listings and suggestions, "
        "logged once; they never stop start-up",
    )


class Vocabulary(BaseModel):
    langs: list[str]
    situations: list[str]
    emotions: list[str]
    customer_types: list[str] = Field(description="dimension:label")
    techniques: dict[str, str] = Field(description="technique -> its Chinese name in the seeds")
    statuses: list[str]
    cue_kinds: list[str]


@router.get("/health", responses=responses(503))
async def read_health(store: StoreDep, request: Request) -> Health:
    """Service version, whether the phrase store and the broker answer (503 when either does not), and whether
    the model is loaded yet (the service answers before: English then leans on the lexical channel until
    `model.ready`)."""
    try:
        await to_thread.run_sync(_ping_store, store)
    except StoreUnavailable as exc:
        raise StoreUnavailable(exc.detail, status="unavailable") from exc
    try:
        await request.state.hub.broker.ping()
    except BrokerUnavailable as exc:  # linked instances would miss each other's events and bank changes
        raise BrokerUnavailable(exc.detail, status="unavailable") from exc
    searcher = request.state.suggester.searcher
    routes = searcher.routes
    models = [
        ModelStatus(
            name=enc.name,
            ready=bool(getattr(enc, "ready", True)),
            traced=bool(getattr(enc, "traced", False)),
            langs=sorted(lang for lang, routed in routes.by_lang.items() if routed is enc),
        )
        for enc in routes.encoders
    ]
    model = models[0]
    skipped = {**store.skipped, **getattr(searcher, "skipped", {})}
    return Health(
        status="degraded" if skipped else "ok",
        version=__version__,
        store=store.engine.dialect.name,
        model=model,
        models=models,
        skipped_phrases=[SkippedPhrase(**skipped[k]) for k in sorted(skipped)],
    )


def _ping_store(store: Any) -> None:
    with store.session() as s:
        s.execute(text("SELECT 1"))


@router.get("/vocabulary")
def read_vocabulary() -> Vocabulary:
    """The shared labels (DESIGN §2): language codes (the registry's, assist.languages), situations, emotions,
    customer types, techniques, statuses."""
    return Vocabulary(
        langs=list(registry().codes),
        situations=list(SITUATIONS),
        emotions=list(EMOTIONS),
        customer_types=list(PROFILE_LABELS),
        techniques=TECHNIQUES,
        statuses=list(PHRASE_STATUSES),
        cue_kinds=list(CUE_KINDS),
    )
