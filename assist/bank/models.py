"""SQLAlchemy tables: phrases with their texts and tags, history, daily usage, API tokens, cached vectors and
agents' feedback."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every backend (SQLite stores datetimes without their zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class Phrase(Base):
    __tablename__ = "phrases"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    technique: Mapped[str | None] = mapped_column(String(40))
    placeholders: Mapped[list[str]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), index=True)
    source_seed: Mapped[str | None] = mapped_column(String(120))
    source_principle: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(80))
    updated_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    texts: Mapped[list[PhraseText]] = relationship(
        back_populates="phrase", cascade="all, delete-orphan", lazy="selectin", order_by="PhraseText.lang"
    )
    tags: Mapped[list[PhraseTag]] = relationship(
        back_populates="phrase", cascade="all, delete-orphan", lazy="selectin", order_by="PhraseTag.id"
    )
    examples: Mapped[list[PhraseExample]] = relationship(
        back_populates="phrase", cascade="all, delete-orphan", lazy="selectin", order_by="PhraseExample.position"
    )

    # Optimistic concurrency: every UPDATE carries "WHERE version = <the version read>".
    __mapper_args__ = {"version_id_col": version}


class PhraseText(Base):
    """One language's text. `derived` marks zh-Hant made from zh-Hans with OpenCC (re-derived on edit)."""

    __tablename__ = "phrase_texts"
    __table_args__ = (UniqueConstraint("phrase_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase_id: Mapped[int] = mapped_column(ForeignKey("phrases.id", ondelete="CASCADE"), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    derived: Mapped[bool] = mapped_column(Boolean, default=False)
    phrase: Mapped[Phrase] = relationship(back_populates="texts")


class PhraseTag(Base):
    """A label: kind is situation | emotion | customer_type | team."""

    __tablename__ = "phrase_tags"
    __table_args__ = (
        UniqueConstraint("phrase_id", "kind", "value"),
        Index("ix_phrase_tags_kind_value", "kind", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase_id: Mapped[int] = mapped_column(ForeignKey("phrases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(64))
    phrase: Mapped[Phrase] = relationship(back_populates="tags")


class PhraseExample(Base):
    """A customer message the phrase answers, in one language (its own table: stores made before examples
    existed gain it on start, as every table is created when missing)."""

    __tablename__ = "phrase_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase_id: Mapped[int] = mapped_column(ForeignKey("phrases.id", ondelete="CASCADE"), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(Integer)  # order within the phrase, all languages together
    text: Mapped[str] = mapped_column(Text)
    phrase: Mapped[Phrase] = relationship(back_populates="examples")


class History(Base):
    __tablename__ = "phrase_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase_id: Mapped[int] = mapped_column(ForeignKey("phrases.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # create | update | status | delete
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Usage(Base):
    __tablename__ = "phrase_usage"
    __table_args__ = (UniqueConstraint("phrase_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase_id: Mapped[int] = mapped_column(ForeignKey("phrases.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    shown: Mapped[int] = mapped_column(Integer, default=0)
    used: Mapped[int] = mapped_column(Integer, default=0)
    dismissed: Mapped[int] = mapped_column(Integer, default=0)


class Token(Base):
    """An API token. Only the SHA-256 of the secret is kept."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StoreSetting(Base):
    """A setting kept with the data it governs (e.g. `auth_mode`), so every instance on the store agrees."""

    __tablename__ = "store_settings"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class Embedding(Base):
    """A cached sentence vector, keyed by model and the SHA-256 of the text: restarts encode nothing new."""

    __tablename__ = "embeddings"

    model: Mapped[str] = mapped_column(String(300), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class FeedbackEvent(Base):
    """An agent's use or dismissal of a suggested phrase: the customer message's vector (under `model`, the
    encoder whose query vectors these are), the phrase, the team and the time. The message's text only when
    a setting asks for it (ASSIST_FEEDBACK__KEEP_TEXT). Bounded per team (assist/bank/feedback.py)."""

    __tablename__ = "feedback_events"
    __table_args__ = (Index("ix_feedback_events_team_id", "team", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team: Mapped[str] = mapped_column(String(64))  # "" for agents without a team
    phrase_id: Mapped[int] = mapped_column(ForeignKey("phrases.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # used | dismissed
    model: Mapped[str] = mapped_column(String(300))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[float] = mapped_column(Float)  # seconds since the epoch
    text: Mapped[str | None] = mapped_column(Text)


class GuardRule(Base):
    """A pre-send guard rule (assist.guard): a forbidden expression (禁语) or a must-say check (必达话术)."""

    __tablename__ = "guard_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # forbidden | must_say
    category: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(8))  # warn | block
    phrases: Mapped[list[str]] = mapped_column(default=list)
    exceptions: Mapped[list[str]] = mapped_column(default=list)
    when: Mapped[str | None] = mapped_column(String(16))  # must_say: first_reply | closing | by_reply
    triggers: Mapped[list[str]] = mapped_column(default=list)
    reply: Mapped[int | None] = mapped_column(Integer)
    teams: Mapped[list[str]] = mapped_column(default=list)
    langs: Mapped[list[str]] = mapped_column(default=list)
    why: Mapped[str] = mapped_column(Text)
    source_seed: Mapped[str | None] = mapped_column(String(120))
    source_principle: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), index=True)  # active | retired
    created_by: Mapped[str] = mapped_column(String(80))
    updated_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class GuardHistory(Base):
    __tablename__ = "guard_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("guard_rules.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # create | update | status | delete
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
