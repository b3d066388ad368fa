"""API tokens with roles: created from the CLI, stored as SHA-256 hashes, checked per request."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from assist.bank.db import Sessions
from assist.bank.models import Token, utcnow
from assist.config import Settings
from assist.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from assist.vocab import ROLES

TOKEN_PREFIX = "aa_"


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: str  # agent | lead | integration
    team: str | None = None
    token_id: int | None = None  # None: open access

    @property
    def key(self) -> str:
        """Who this is for per-principal limits: the token, or open access."""
        return f"token:{self.token_id}" if self.token_id is not None else "open"

    def may_see(self, owner: str | None) -> bool:
        """Whether this principal may read or feed a conversation that belongs to team `owner` (docs/api.md)."""
        return may_see(self.role, self.team, owner)

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"this needs the role {' or '.join(roles)}; the token has {self.role}")


OPEN_ACCESS = Principal(name="local", role="lead")


def may_see(role: str, team: str | None, owner: str | None) -> bool:
    """A conversation belongs to the team of the integration that fed its first message: its agents and
    integrations see it, leads see every one; a conversation fed without a team is everyone's."""
    return role == "lead" or owner is None or team == owner


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def open_access(settings: Settings, tokens: TokenStore) -> bool:
    """Requests without a token act as a lead only on loopback with no tokens configured."""
    return settings.loopback and tokens.active_count() == 0


def principal_for(
    settings: Settings,
    tokens: TokenStore,
    secret: str | None,
    missing: str = "an API token is required: send `Authorization: Bearer <token>`",
) -> Principal:
    """The one way a request or a connection becomes a principal (REST, /ws, webhooks): a given token (bearer
    header, `?token=`, an `auth` frame; even an empty one) is verified; no token (None) acts as a lead in open
    access and is refused with `missing` otherwise. Blocking (the database): from the event loop, call it on a
    worker thread."""
    if secret is not None:
        return tokens.verify(secret)
    if open_access(settings, tokens):
        return OPEN_ACCESS
    raise Unauthorized(missing)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None when absent or of another scheme."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class TokenStore:
    """Tokens live in the same database as the phrase bank (a Database, or a unit on it such as PhraseStore)."""

    def __init__(self, db: Sessions) -> None:
        self.db = db

    def create(self, name: str, role: str, team: str | None = None) -> tuple[dict[str, Any], str]:
        """Make a token; the secret is returned once and only its hash is kept."""
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.session() as s:
            token = Token(name=name, role=role, team=team or None, token_hash=hash_token(secret))
            s.add(token)
            s.flush()
            return _public(token), secret

    def list(self) -> list[dict[str, Any]]:
        with self.db.session() as s:
            return [_public(t) for t in s.scalars(select(Token).order_by(Token.id))]

    def revoke(self, token_id: int) -> dict[str, Any]:
        with self.db.session() as s:
            token = s.get(Token, token_id)
            if token is None:
                raise NotFound(f"token {token_id} not found")
            token.revoked_at = token.revoked_at or utcnow()
            return _public(token)

    def revoked_among(self, token_ids: Iterable[int]) -> set[int]:
        """Which of these tokens are revoked (or gone) now: open connections re-check theirs with it."""
        wanted = set(token_ids)
        if not wanted:
            return set()
        with self.db.session() as s:
            live = s.scalars(select(Token.id).where(Token.id.in_(wanted), Token.revoked_at.is_(None)))
            return wanted - set(live)

    def active_count(self) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.count()).select_from(Token).where(Token.revoked_at.is_(None))) or 0

    def verify(self, secret: str) -> Principal:
        with self.db.session() as s:
            token = s.scalar(select(Token).where(Token.token_hash == hash_token(secret)))
            if token is None or token.revoked_at is not None:
                raise Unauthorized("unknown or revoked token")
            return Principal(name=token.name, role=token.role, team=token.team, token_id=token.id)


def _public(t: Token) -> dict[str, Any]:
    revoked: datetime | None = t.revoked_at
    return {
        "id": t.id,
        "name": t.name,
        "role": t.role,
        "team": t.team,
        "created_at": t.created_at,
        "revoked_at": revoked,
    }
