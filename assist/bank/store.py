"""PhraseStore: the phrase repository (CRUD, history, import, seed) in SQL (SQLite by default, PostgreSQL by URL).

Its neighbours share its Database: usage counts (assist.bank.usage), the search index's vector cache
(assist.bank.vectors) and the API tokens (assist.auth)."""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assist.bank.content import load_shipped
from assist.bank.db import Database
from assist.bank.models import History, Phrase, PhraseExample, PhraseTag, PhraseText, utcnow
from assist.bank.records import TAG_KINDS, derive_texts, entry_of, jsonable, public_of, same, snapshot, validate
from assist.bank.schema import PhraseIn, check_texts, placeholders
from assist.errors import Conflict, PhraseNotFound, VersionConflict
from assist.languages import registry

logger = logging.getLogger(__name__)

SHIPPED_ACTOR = "system:phrasebank"
IMPORT_PROGRESS_ROWS = 1000  # an import logs its progress every this many rows


@dataclass(slots=True)
class PhraseFilter:
    lang: str | None = None
    situations: Sequence[str] = ()
    emotions: Sequence[str] = ()
    customer_types: Sequence[str] = ()
    statuses: Sequence[str] = ()
    team: str | None = None  # visible to this team: unscoped phrases and the team's own
    q: str | None = None


@dataclass(slots=True)
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "keys": {"created": self.created, "updated": self.updated},
        }


def _new_key(session: Session) -> str:
    """A key for a phrase created without one: p-<next number>."""
    last = session.scalar(select(func.max(Phrase.id))) or 0
    n = last + 1
    while session.scalar(select(Phrase.id).where(Phrase.key == f"p-{n}")) is not None:
        n += 1
    return f"p-{n}"


class PhraseStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._listeners: list[Callable[[list[int]], None]] = []
        # Stored rows that could not be read (a row no current code writes): id -> reason. They are left out of
        # listings and the search index, logged once, and shown by /api/health; they never stop start-up.
        self.skipped: dict[int, dict[str, Any]] = {}

    def _public(self, rows: Sequence[Phrase]) -> builtins.list[dict[str, Any]]:
        """The rows as the API shows them, leaving out (and reporting) any that cannot be read."""
        out = []
        for p in rows:
            try:
                out.append(public_of(p))
            except Exception as exc:  # one bad stored row must not fail the others
                self._skip(p, exc)
        return out

    def _skip(self, p: Phrase, exc: Exception) -> None:
        reason = f"{type(exc).__name__}: {exc}"[:200]
        if p.id not in self.skipped:
            logger.warning("phrase bank: phrase %s (%s) cannot be read and is skipped: %s", p.id, p.key, reason)
        self.skipped[p.id] = {"id": p.id, "key": p.key, "reason": reason}

    def on_change(self, listener: Callable[[list[int]], None]) -> None:
        """Call `listener(phrase_ids)` after every committed change to phrases, on the writer's thread
        (assist.bank.notices publishes them; keep listeners short)."""
        self._listeners.append(listener)

    def _changed(self, ids: Sequence[int]) -> None:
        if ids:
            for listener in self._listeners:
                listener(list(ids))

    @classmethod
    def connect(cls, url: str) -> PhraseStore:
        """Open (and create the tables of) the store at a SQLAlchemy URL."""
        return cls(Database.connect(url))

    @property
    def engine(self) -> Engine:
        return self.db.engine

    def close(self) -> None:
        self.db.close()

    def session(self) -> AbstractContextManager[Session]:
        """A transaction: committed on success, rolled back on any error."""
        return self.db.session()

    # ---- reads ---------------------------------------------------------------------------------

    def _query(self, f: PhraseFilter) -> Any:
        stmt = select(Phrase)
        if f.lang:
            stmt = stmt.where(Phrase.id.in_(select(PhraseText.phrase_id).where(PhraseText.lang == f.lang)))
        for name, values in (("situation", f.situations), ("emotion", f.emotions), ("customer_type", f.customer_types)):
            if values:
                tagged = select(PhraseTag.phrase_id).where(PhraseTag.kind == name, PhraseTag.value.in_(values))
                stmt = stmt.where(Phrase.id.in_(tagged))
        if f.statuses:
            stmt = stmt.where(Phrase.status.in_(f.statuses))
        if f.team is not None:
            scoped = exists().where(PhraseTag.phrase_id == Phrase.id, PhraseTag.kind == "team")
            mine = exists().where(PhraseTag.phrase_id == Phrase.id, PhraseTag.kind == "team", PhraseTag.value == f.team)
            stmt = stmt.where(or_(~scoped, mine))
        if f.q:
            q = f.q.strip().lower()
            variants = registry().spellings(q)
            texts = select(PhraseText.phrase_id).where(
                or_(*(func.lower(PhraseText.text).contains(v, autoescape=True) for v in variants))
            )
            stmt = stmt.where(or_(Phrase.id.in_(texts), Phrase.key.contains(q, autoescape=True)))
        return stmt

    def list(self, f: PhraseFilter, offset: int = 0, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
        with self.session() as s:
            stmt = self._query(f)
            count = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = s.scalars(stmt.order_by(Phrase.id).offset(offset).limit(limit)).all()
            return self._public(rows), count

    def _get(self, s: Session, phrase_id: int) -> Phrase:
        p = s.get(Phrase, phrase_id)
        if p is None:
            raise PhraseNotFound(f"phrase {phrase_id} not found")
        return p

    def get(self, phrase_id: int) -> dict[str, Any]:
        with self.session() as s:
            found = self._public([self._get(s, phrase_id)])
        if not found:
            raise PhraseNotFound(f"phrase {phrase_id} is stored but cannot be read; /api/health lists it")
        return found[0]

    def history(self, phrase_id: int) -> builtins.list[dict[str, Any]]:
        with self.session() as s:
            self._get(s, phrase_id)
            rows = s.scalars(select(History).where(History.phrase_id == phrase_id).order_by(History.id)).all()
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

    def entries(self, f: PhraseFilter | None = None) -> builtins.list[dict[str, Any]]:
        """Every matching phrase as an import/export entry, by id."""
        with self.session() as s:
            rows = s.scalars(self._query(f or PhraseFilter()).order_by(Phrase.id)).all()
            return [entry_of(p) for p in rows]

    def records(self, ids: Sequence[int] | None = None, statuses: Sequence[str] = ()) -> builtins.list[dict[str, Any]]:
        """Phrases as the API shows them, by id: all of them, or those with the given ids."""
        with self.session() as s:
            stmt = select(Phrase).order_by(Phrase.id)
            if ids is not None:
                stmt = stmt.where(Phrase.id.in_(list(ids)))
            if statuses:
                stmt = stmt.where(Phrase.status.in_(list(statuses)))
            return self._public(s.scalars(stmt).all())

    # ---- writes --------------------------------------------------------------------------------

    def _write(self, s: Session, p: Phrase, data: PhraseIn, actor: str) -> None:
        """Set every content field of `p` from a validated entry."""
        texts = derive_texts(data.text)
        current = {t.lang: t for t in p.texts}
        for lang in set(current) - set(texts):
            p.texts.remove(current[lang])
        for lang, (text, derived) in texts.items():
            if lang in current:
                current[lang].text, current[lang].derived = text, derived
            else:
                p.texts.append(PhraseText(lang=lang, text=text, derived=derived))
        wanted = [(kind, v) for name, kind in TAG_KINDS.items() for v in getattr(data, name)]
        have = {(t.kind, t.value): t for t in p.tags}
        for pair in set(have) - set(wanted):
            p.tags.remove(have[pair])
        for kind, value in wanted:
            if (kind, value) not in have:
                p.tags.append(PhraseTag(kind=kind, value=value))
        p.tags.sort(key=lambda t: wanted.index((t.kind, t.value)))
        examples = [(lang, text) for lang, texts in data.examples.items() for text in texts]
        if [(e.lang, e.text) for e in p.examples] != examples:
            p.examples.clear()
            p.examples.extend(PhraseExample(lang=lang, text=t, position=i) for i, (lang, t) in enumerate(examples))
        p.technique = data.technique
        p.placeholders = placeholders(next(iter(data.text.values())))
        p.status = data.status
        p.source_seed = data.source.seed if data.source else None
        p.source_principle = data.source.principle if data.source else None
        p.updated_by, p.updated_at = actor, utcnow()

    def _create(self, s: Session, data: PhraseIn, actor: str, known_new: bool = False) -> Phrase:
        """Add a phrase; its history row follows `_created` once it has an id. `known_new`: the caller has
        checked that the key is free (an import), so nothing is flushed here and creates are inserted together."""
        if data.key is None:
            s.flush()  # pending phrases take their ids first, so the new key is past them
        key = data.key or _new_key(s)
        if not known_new and s.scalar(select(Phrase.id).where(Phrase.key == key)) is not None:
            raise Conflict(f"a phrase with key {key!r} already exists", key=key)
        p = Phrase(key=key, status=data.status, created_by=actor, updated_by=actor)
        s.add(p)
        self._write(s, p, data, actor)
        p.created_at = p.updated_at
        return p

    def _created(self, s: Session, phrases: Sequence[Phrase], actor: str) -> None:
        """Insert created phrases (one flush for all) and write their `create` history rows."""
        s.flush()
        s.add_all(
            History(phrase_id=p.id, action="create", actor=actor, version=p.version, before=None, after=snapshot(p))
            for p in phrases
        )

    def create(self, data: PhraseIn, actor: str) -> dict[str, Any]:
        try:
            with self.session() as s:
                p = self._create(s, data, actor)
                self._created(s, [p], actor)
                out = public_of(p)
        except IntegrityError as exc:  # a concurrent create took the key between check and insert
            raise Conflict(f"a phrase with key {data.key!r} already exists", key=data.key) from exc
        self._changed([out["id"]])
        return out

    def _check_version(self, p: Phrase, version: int | None) -> None:
        if version is not None and version != p.version:
            raise VersionConflict(
                f"phrase {p.id} is at version {p.version}, not {version}; reload it and apply your change again",
                current_version=p.version,
                current=jsonable(public_of(p)),
            )

    def update(self, phrase_id: int, changes: dict[str, Any], version: int, actor: str) -> dict[str, Any]:
        """Apply a partial change (fields of PhraseIn; `text` merges per language, "" removes one)."""
        with self.session() as s:
            p = self._get(s, phrase_id)
            self._check_version(p, version)
            before = snapshot(p)
            merged = entry_of(p)
            if "text" in changes:
                text = dict(merged["text"])
                text.update(changes["text"] or {})
                merged["text"] = {lang: t for lang, t in text.items() if t}
            if "examples" in changes:  # per language, like text: a language's list replaces it, [] removes it
                examples = dict(merged["examples"])
                examples.update(changes["examples"] or {})
                merged["examples"] = {lang: e for lang, e in examples.items() if e}
            merged.update({k: v for k, v in changes.items() if k not in ("text", "examples")})
            data = validate(merged)
            action = "status" if set(changes) == {"status"} else "update"
            out = self._commit_change(s, p, data, actor, action, before)
        self._changed([phrase_id] if out["version"] != before["version"] else [])
        return out

    def _commit_change(
        self, s: Session, p: Phrase, data: PhraseIn, actor: str, action: str, before: dict[str, Any]
    ) -> dict[str, Any]:
        if same(p, data):
            return public_of(p)
        self._write(s, p, data, actor)
        s.flush()  # bumps the version, guarded by WHERE version = <read version>
        s.add(History(phrase_id=p.id, action=action, actor=actor, version=p.version, before=before, after=snapshot(p)))
        return public_of(p)

    def set_status(
        self, phrase_id: int, status: str, version: int | None, actor: str, action: str = "status"
    ) -> dict[str, Any]:
        with self.session() as s:
            p = self._get(s, phrase_id)
            self._check_version(p, version)
            before = snapshot(p)
            data = validate({**entry_of(p), "status": status})
            out = self._commit_change(s, p, data, actor, action, before)
        self._changed([phrase_id] if out["version"] != before["version"] else [])
        return out

    def retire(self, phrase_id: int, version: int | None, actor: str) -> dict[str, Any]:
        """Soft delete: the phrase stays, with status `retired`, and the history says `delete`."""
        return self.set_status(phrase_id, "retired", version, actor, action="delete")

    def import_entries(self, entries: Sequence[PhraseIn], actor: str, dry_run: bool = False) -> ImportReport:
        """Create or update phrases by key in one transaction: all of them or none."""
        report = ImportReport(dry_run=dry_run)
        touched: list[int] = []
        try:
            with self.session() as s:
                keys = [e.key for e in entries if e.key]
                existing = {p.key: p for p in s.scalars(select(Phrase).where(Phrase.key.in_(keys)))} if keys else {}
                created: list[Phrase] = []
                new_keys: set[str] = set()
                for n, data in enumerate(entries, start=1):
                    if n % IMPORT_PROGRESS_ROWS == 0 or (n == len(entries) and n >= IMPORT_PROGRESS_ROWS):
                        logger.info("phrase import: %d/%d rows%s", n, len(entries), " (dry run)" if dry_run else "")
                    p = existing.get(data.key) if data.key else None
                    if p is None:
                        if data.key is not None and data.key in new_keys:
                            raise Conflict(f"a phrase with key {data.key!r} already exists", key=data.key)
                        with s.no_autoflush:
                            created.append(self._create(s, data, actor, known_new=True))
                        report.created.append(created[-1].key)
                        new_keys.add(created[-1].key)
                        continue
                    before = snapshot(p)
                    if same(p, data):
                        report.unchanged.append(p.key)
                        continue
                    self._write(s, p, data, actor)
                    s.flush()
                    s.add(
                        History(
                            phrase_id=p.id,
                            action="update",
                            actor=actor,
                            version=p.version,
                            before=before,
                            after=snapshot(p),
                        )
                    )
                    report.updated.append(p.key)
                    touched.append(p.id)
                self._created(s, created, actor)
                touched += [p.id for p in created]
                if dry_run:
                    s.rollback()
        except IntegrityError as exc:
            raise Conflict(
                "another import or edit wrote the same phrases at the same time; nothing was saved, "
                "run the import again"
            ) from exc
        if not dry_run:
            self._changed(touched)
        return report

    def seed(self, directory: Path) -> int:
        """Load the shipped phrase bank: add entries whose key is new, never touch existing ones."""
        if not directory.is_dir():
            logger.warning("phrase bank: %s is not a directory; no shipped phrases loaded", directory)
            return 0
        shipped = [e for _, e in load_shipped(directory)]
        for attempt in range(5):
            with self.session() as s:
                have = set(s.scalars(select(Phrase.key)))
            new = [e for e in shipped if e.key not in have]
            if not new:
                break
            try:
                self.import_entries(new, SHIPPED_ACTOR)
                break
            except Conflict:
                # Another process is seeding the same empty store (two instances starting at once): its
                # transaction took some keys first. Look again; what is left is still ours to add.
                if attempt == 4:
                    raise
                logger.info("phrase bank: another process is loading the shipped phrases; looking again")
                new = []
        logger.info("phrase bank: %d shipped phrases in %s, %d new loaded", len(shipped), directory, len(new))
        return len(new)

    # ---- usage ---------------------------------------------------------------------------------


__all__ = ["ImportReport", "PhraseFilter", "PhraseStore", "check_texts", "entry_of", "public_of"]
