"""API tokens with roles: created from the CLI, stored as SHA-256 hashes, checked per request."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from assist.bank.db import Sessions
from assist.bank.models import StoreSetting, Token, utcnow
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


AUTH_MODES = ("open", "tokens")


def open_access(settings: Settings, tokens: TokenStore) -> bool:
    """Requests without a token act as a lead only on loopback, in the store's `open` mode, with no active token.
    The mode turns to `tokens` when the first token is made and stays there when tokens are revoked; only
    `assist token mode open` turns it back."""
    return settings.loopback and tokens.mode() == "open" and tokens.active_count() == 0


def _host_name(value: str) -> str:
    """The host of a Host header or an Origin's authority, without port or IPv6 brackets, lower-cased."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def _local_host(name: str, settings: Settings) -> bool:
    if name == "localhost" or name.endswith(".localhost") or name in settings.allowed_hosts:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def open_refusal(settings: Settings, headers: Mapping[str, str]) -> str | None:
    """Why open access refuses a request or handshake with these headers (check_open_request), or None."""
    try:
        check_open_request(settings, headers.get("host"), headers.get("origin"))
    except Forbidden as exc:
        return exc.detail
    return None


def check_open_request(settings: Settings, host: str | None, origin: str | None) -> None:
    """In open access (no token, acting as a lead) the request must come to a local name and, from a browser,
    from a local page: a Host that is not loopback or an allowed host (DNS rebinding), or an Origin of another
    site (a page posting to 127.0.0.1) is refused with 403. Requests with a token are not checked here."""
    if host is not None and not _local_host(_host_name(host), settings):
        raise Forbidden(
            "open access answers only requests to localhost or a loopback address (Host header); "
            "add the name to ASSIST_ALLOWED_HOSTS or use a token"
        )
    if origin is not None and origin not in settings.cors_origins:
        authority = origin.split("://", 1)[-1].split("/", 1)[0]
        if origin == "null" or not _local_host(_host_name(authority), settings):
            raise Forbidden("open access does not answer pages of other sites (Origin); use a token")


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
            _set_mode(s, "tokens")
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

    def mode(self) -> str:
        """`open` or `tokens`, as recorded in the store. A store without a record is `tokens` once it has held
        any token (revoked ones too), else `open`."""
        with self.db.session() as s:
            row = s.get(StoreSetting, "auth_mode")
            if row is not None:
                return row.value
            return "tokens" if s.scalar(select(func.count()).select_from(Token)) else "open"

    def set_mode(self, mode: str) -> None:
        """Record the access mode. `open` needs no active token (revoke them first); it takes effect only on a
        loopback bind."""
        if mode not in AUTH_MODES:
            raise InvalidInput(f"unknown access mode {mode!r}; expected one of {', '.join(AUTH_MODES)}")
        if mode == "open" and self.active_count():
            raise InvalidInput("tokens are active: revoke them first (`assist token revoke <id>`), then open access")
        with self.db.session() as s:
            _set_mode(s, mode)

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


def _set_mode(s: Any, mode: str) -> None:
    row = s.get(StoreSetting, "auth_mode")
    if row is None:
        s.add(StoreSetting(key="auth_mode", value=mode))
    else:
        row.value = mode


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
