"""`assist token …`: API tokens with roles; the secret is shown once, only its hash is stored."""

from __future__ import annotations

import click

from assist.auth import AUTH_MODES, TokenStore
from assist.bank.db import Database
from assist.cli import echo_json, main
from assist.config import get_settings
from assist.vocab import ROLES


def _tokens() -> TokenStore:
    return TokenStore(Database.connect(get_settings().sqlalchemy_url))


@main.group()
def token() -> None:
    """Create, list and revoke API tokens."""


@token.command()
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", required=True, help="who or what uses it, e.g. alice or chatwoot")
@click.option("--team", default=None, help="agents see phrases of this team (and unscoped ones)")
@click.option("--json", "as_json", is_flag=True)
def create(role: str, name: str, team: str | None, as_json: bool) -> None:
    """Create a token and print its secret (shown only this once)."""
    info, secret = _tokens().create(name, role, team)
    if as_json:
        echo_json({**info, "token": secret})
    else:
        click.echo(secret)
        click.echo(f"token {info['id']} for {name} ({role}); store the secret now, it is not kept", err=True)


@token.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_(as_json: bool) -> None:
    """List tokens (never their secrets)."""
    rows = _tokens().list()
    if as_json:
        echo_json(rows)
        return
    for t in rows:
        state = f"revoked {t['revoked_at']:%Y-%m-%d}" if t["revoked_at"] else "active"
        click.echo(f"{t['id']:>4}  {t['role']:<11} {t['name']:<20} {t['team'] or '-':<12} {state}")


@token.command()
@click.argument("mode", required=False, type=click.Choice(AUTH_MODES))
def mode(mode: str | None) -> None:
    """Show or set the access mode kept in the store: `tokens` (every request needs a token; set when the first
    token is created and kept when tokens are revoked) or `open` (no token needed, on a loopback bind only)."""
    tokens = _tokens()
    if mode is None:
        click.echo(tokens.mode())
        return
    tokens.set_mode(mode)
    click.echo(f"access mode: {mode}", err=True)


@token.command()
@click.argument("token_id", type=click.IntRange(1, 2**31 - 1))
def revoke(token_id: int) -> None:
    """Revoke a token by id."""
    _tokens().revoke(token_id)  # an AssistError ends as `error: ...` (assist.cli.AssistGroup)
    click.echo(f"token {token_id} revoked")
