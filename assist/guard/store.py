"""GuardStore: the guard rules in the bank's SQL database (SQLite by default, PostgreSQL by URL): CRUD with
optimistic versions, history, import by key (all or nothing) and the shipped defaults."""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assist.bank.db import Database
from assist.bank.models import GuardHistory, GuardRule, utcnow
from assist.bank.store import ImportReport
from assist.errors import Conflict, InvalidInput, NotFound, VersionConflict
from assist.guard.schema import RULE_FIELDS, GuardRuleIn

logger = logging.getLogger(__name__)

SHIPPED_ACTOR = "system:guard"
FIELDS = RULE_FIELDS


class GuardRuleNotFound(NotFound):
    code = "guard_rule_not_found"


def entry_of(r: GuardRule) -> dict[str, Any]:
    """A rule as an import/export entry (GuardRuleIn's shape)."""
    out: dict[str, Any] = {"key": r.key}
    for name in FIELDS:
        out[name] = list(getattr(r, name)) if isinstance(getattr(r, name), list) else getattr(r, name)
    out["source"] = {"seed": r.source_seed, "principle": r.source_principle} if r.source_seed else None
    out["status"] = r.status
    return out


def public_of(r: GuardRule) -> dict[str, Any]:
    return {
        "id": r.id,
        **entry_of(r),
        "version": r.version,
        "created_by": r.created_by,
        "updated_by": r.updated_by,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    }


def _snapshot(r: GuardRule) -> dict[str, Any]:
    return {**entry_of(r), "version": r.version}


def _validate(entry: dict[str, Any]) -> GuardRuleIn:
    try:
        return GuardRuleIn.model_validate(entry)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        msg = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"{where}: {msg}" if where else msg) from exc


def _same(r: GuardRule, data: GuardRuleIn) -> bool:
    mine = entry_of(r)
    theirs = data.model_dump(mode="json")
    theirs["key"] = r.key
    return mine == theirs


def _new_key(s: Session) -> str:
    n = (s.scalar(select(GuardRule.id).order_by(GuardRule.id.desc()).limit(1)) or 0) + 1
    while s.scalar(select(GuardRule.id).where(GuardRule.key == f"g-{n}")) is not None:
        n += 1
    return f"g-{n}"


class GuardStore:
    """Guard rules on the bank's Database (the phrase store's `db`)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after every committed change to the rules, on the writer's thread."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    # ---- reads ---------------------------------------------------------------------------------

    def list(
        self,
        kind: str | None = None,
        category: str | None = None,
        status: str | None = None,
        team: str | None = None,
        q: str | None = None,
    ) -> builtins.list[dict[str, Any]]:
        with self.db.session() as s:
            stmt = select(GuardRule).order_by(GuardRule.id)
            if kind:
                stmt = stmt.where(GuardRule.kind == kind)
            if category:
                stmt = stmt.where(GuardRule.category == category)
            if status:
                stmt = stmt.where(GuardRule.status == status)
            rows = [public_of(r) for r in s.scalars(stmt)]
        if team is not None:
            rows = [r for r in rows if not r["teams"] or team in r["teams"]]
        if q:
            from assist.guard.fold import fold

            needle = fold(q)
            rows = [r for r in rows if needle in fold(" ".join([r["key"], r["category"], *r["phrases"]]))]
        return rows

    def active(self) -> builtins.list[dict[str, Any]]:
        """The active rules, as assist.guard.engine.Guard.build reads them."""
        with self.db.session() as s:
            rows = s.scalars(select(GuardRule).where(GuardRule.status == "active").order_by(GuardRule.id))
            return [entry_of(r) for r in rows]

    def _get(self, s: Session, rule_id: int) -> GuardRule:
        r = s.get(GuardRule, rule_id)
        if r is None:
            raise GuardRuleNotFound(f"guard rule {rule_id} not found")
        return r

    def get(self, rule_id: int) -> dict[str, Any]:
        with self.db.session() as s:
            return public_of(self._get(s, rule_id))

    def entries(self, status: str | None = None) -> builtins.list[dict[str, Any]]:
        with self.db.session() as s:
            stmt = select(GuardRule).order_by(GuardRule.id)
            if status:
                stmt = stmt.where(GuardRule.status == status)
            return [entry_of(r) for r in s.scalars(stmt)]

    def history(self, rule_id: int) -> builtins.list[dict[str, Any]]:
        with self.db.session() as s:
            self._get(s, rule_id)
            rows = s.scalars(select(GuardHistory).where(GuardHistory.rule_id == rule_id).order_by(GuardHistory.id))
            return [
                {
                    "id": h.id,
                    "action": h.action,
                    "actor": h.actor,
                    "at": h.at,
                    "version": h.version,
                    "before": h.before,
                    "after": h.after,
                }
                for h in rows
            ]

    # ---- writes --------------------------------------------------------------------------------

    @staticmethod
    def _write(r: GuardRule, data: GuardRuleIn, actor: str) -> None:
        for name in FIELDS:
            value = getattr(data, name)
            setattr(r, name, list(value) if isinstance(value, list) else value)
        r.source_seed = data.source.seed if data.source else None
        r.source_principle = data.source.principle if data.source else None
        r.status = data.status
        r.updated_by, r.updated_at = actor, utcnow()

    def _create(self, s: Session, data: GuardRuleIn, actor: str) -> GuardRule:
        key = data.key or _new_key(s)
        if s.scalar(select(GuardRule.id).where(GuardRule.key == key)) is not None:
            raise Conflict(f"a guard rule with key {key!r} already exists", key=key)
        r = GuardRule(key=key, created_by=actor, updated_by=actor)
        self._write(r, data, actor)
        r.created_at = r.updated_at
        s.add(r)
        s.flush()
        s.add(GuardHistory(rule_id=r.id, action="create", actor=actor, version=r.version, after=_snapshot(r)))
        return r

    def create(self, data: GuardRuleIn, actor: str) -> dict[str, Any]:
        try:
            with self.db.session() as s:
                out = public_of(self._create(s, data, actor))
        except IntegrityError as exc:
            raise Conflict(f"a guard rule with key {data.key!r} already exists", key=data.key) from exc
        self._changed()
        return out

    def update(
        self, rule_id: int, changes: dict[str, Any], version: int | None, actor: str, action: str = "update"
    ) -> dict[str, Any]:
        """Apply a partial change (fields of GuardRuleIn); `version` must be the one read (None: any)."""
        with self.db.session() as s:
            r = self._get(s, rule_id)
            if version is not None and version != r.version:
                raise VersionConflict(
                    f"guard rule {rule_id} is at version {r.version}, not {version}; reload it and apply your "
                    "change again",
                    current_version=r.version,
                )
            merged = {**entry_of(r), **changes}
            data = _validate(merged)
            if _same(r, data):
                return public_of(r)
            before = _snapshot(r)
            self._write(r, data, actor)
            s.flush()
            s.add(
                GuardHistory(
                    rule_id=r.id, action=action, actor=actor, version=r.version, before=before, after=_snapshot(r)
                )
            )
            out = public_of(r)
        self._changed()
        return out

    def retire(self, rule_id: int, version: int | None, actor: str) -> dict[str, Any]:
        """Soft delete: the rule stays, `retired`, with its history."""
        return self.update(rule_id, {"status": "retired"}, version, actor, action="delete")

    def import_entries(self, entries: Sequence[GuardRuleIn], actor: str, dry_run: bool = False) -> ImportReport:
        """Create or update rules by key in one transaction: all of them or none."""
        report = ImportReport(dry_run=dry_run)
        try:
            with self.db.session() as s:
                keys = [e.key for e in entries if e.key]
                existing = {r.key: r for r in s.scalars(select(GuardRule).where(GuardRule.key.in_(keys)))}
                for data in entries:
                    r = existing.get(data.key) if data.key else None
                    if r is None:
                        report.created.append(self._create(s, data, actor).key)
                        continue
                    if _same(r, data):
                        report.unchanged.append(r.key)
                        continue
                    before = _snapshot(r)
                    self._write(r, data, actor)
                    s.flush()
                    s.add(
                        GuardHistory(
                            rule_id=r.id,
                            action="update",
                            actor=actor,
                            version=r.version,
                            before=before,
                            after=_snapshot(r),
                        )
                    )
                    report.updated.append(r.key)
                if dry_run:
                    s.rollback()
        except IntegrityError as exc:
            raise Conflict(
                "another import or edit wrote the same guard rules at the same time; nothing was saved"
            ) from exc
        if not dry_run and (report.created or report.updated):
            self._changed()
        return report

    def seed(self, shipped: Sequence[GuardRuleIn]) -> int:
        """Add the shipped rules whose key is new; never touch existing ones (a lead may have changed them)."""
        with self.db.session() as s:
            have = set(s.scalars(select(GuardRule.key)))
        new = [GuardRuleIn.model_validate(e.model_dump(exclude={"examples"})) for e in shipped if e.key not in have]
        if new:
            self.import_entries(new, SHIPPED_ACTOR)
        logger.info("guard: %d shipped rules, %d new loaded", len(shipped), len(new))
        return len(new)
