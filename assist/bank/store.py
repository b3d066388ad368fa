"""PhraseStore: phrases, their history and usage in SQL (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exists, func, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from assist.bank.content import load_shipped
from assist.bank.models import Base, Embedding, History, Phrase, PhraseTag, PhraseText, Usage, utcnow
from assist.bank.schema import PhraseIn, check_texts, placeholders
from assist.errors import Conflict, InvalidInput, PhraseNotFound, StoreUnavailable, VersionConflict
from assist.languages import registry

logger = logging.getLogger(__name__)

TAG_KINDS = {"situations": "situation", "emotions": "emotion", "customer_types": "customer_type", "teams": "team"}
USAGE_EVENTS = ("shown", "used", "dismissed")
SHIPPED_ACTOR = "system:phrasebank"


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


def _derive_texts(given: dict[str, str]) -> dict[str, tuple[str, bool]]:
    """Given texts plus those their language's manifest converts them to (the Chinese script that was not
    given, with OpenCC), marked derived."""
    texts = {lang: (t, False) for lang, t in given.items()}
    texts.update((lang, (t, True)) for lang, t in registry().derive(given).items())
    return texts


def entry_of(p: Phrase) -> dict[str, Any]:
    """The phrase as an import/export entry (PhraseIn shape): derived texts and store fields left out."""
    tags = _tags(p)
    entry: dict[str, Any] = {
        "key": p.key,
        "text": {t.lang: t.text for t in sorted(p.texts, key=lambda t: _lang_order(t.lang)) if not t.derived},
        "situations": tags["situations"],
        "emotions": tags["emotions"],
        "customer_types": tags["customer_types"],
        "technique": p.technique,
        "teams": tags["teams"],
        "status": p.status,
        "source": {"seed": p.source_seed, "principle": p.source_principle} if p.source_seed else None,
    }
    return entry


def _lang_order(code: str) -> int:
    return registry().order(code)


def _tags(p: Phrase) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {name: [] for name in TAG_KINDS}
    by_kind = {kind: name for name, kind in TAG_KINDS.items()}
    for tag in p.tags:
        out[by_kind[tag.kind]].append(tag.value)
    return out


def public_of(p: Phrase) -> dict[str, Any]:
    """The phrase as the API shows it."""
    entry = entry_of(p)
    entry.update(
        id=p.id,
        text={t.lang: t.text for t in sorted(p.texts, key=lambda t: _lang_order(t.lang))},
        derived=sorted(t.lang for t in p.texts if t.derived),
        placeholders=list(p.placeholders),
        created_by=p.created_by,
        created_at=p.created_at,
        updated_by=p.updated_by,
        updated_at=p.updated_at,
        version=p.version,
    )
    return entry


def _snapshot(p: Phrase) -> dict[str, Any]:
    return {**entry_of(p), "version": p.version}


class PhraseStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._listeners: list[Callable[[list[int]], None]] = []

    def on_change(self, listener: Callable[[list[int]], None]) -> None:
        """Call `listener(phrase_ids)` after every committed change to phrases (the search index uses it)."""
        self._listeners.append(listener)

    def _changed(self, ids: Sequence[int]) -> None:
        if ids:
            for listener in self._listeners:
                listener(list(ids))

    @classmethod
    def connect(cls, url: str) -> PhraseStore:
        """Open (and create the tables of) the store at a SQLAlchemy URL."""
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Wait for another writer instead of failing at once ("database is locked").
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(engine, "connect", _sqlite_pragmas)
        try:
            Base.metadata.create_all(engine)
        except OperationalError as exc:
            raise StoreUnavailable(f"cannot open the phrase store: {exc.orig}") from exc
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed on success, rolled back on any error."""
        try:
            with self._sessions.begin() as s:
                yield s
        except StaleDataError as exc:
            raise Conflict(
                "a phrase changed while this change was being written; nothing was saved, try again"
            ) from exc
        except OperationalError as exc:
            raise StoreUnavailable(f"the phrase store is unavailable: {type(exc.orig).__name__}") from exc

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
            return [public_of(p) for p in rows], count

    def _get(self, s: Session, phrase_id: int) -> Phrase:
        p = s.get(Phrase, phrase_id)
        if p is None:
            raise PhraseNotFound(f"phrase {phrase_id} not found")
        return p

    def get(self, phrase_id: int) -> dict[str, Any]:
        with self.session() as s:
            return public_of(self._get(s, phrase_id))

    def history(self, phrase_id: int) -> list[dict[str, Any]]:
        with self.session() as s:
            self._get(s, phrase_id)
            rows = s.scalars(select(History).where(History.phrase_id == phrase_id).order_by(History.id)).all()
            return [
                {"id": h.id, "action": h.action, "actor": h.actor, "at": h.at, "version": h.version,
                 "before": h.before, "after": h.after}
                for h in rows
            ]

    def entries(self, f: PhraseFilter | None = None) -> list[dict[str, Any]]:
        """Every matching phrase as an import/export entry, by id."""
        with self.session() as s:
            rows = s.scalars(self._query(f or PhraseFilter()).order_by(Phrase.id)).all()
            return [entry_of(p) for p in rows]

    def records(self, ids: Sequence[int] | None = None, statuses: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Phrases as the API shows them, by id: all of them, or those with the given ids."""
        with self.session() as s:
            stmt = select(Phrase).order_by(Phrase.id)
            if ids is not None:
                stmt = stmt.where(Phrase.id.in_(list(ids)))
            if statuses:
                stmt = stmt.where(Phrase.status.in_(list(statuses)))
            return [public_of(p) for p in s.scalars(stmt)]

    def cached_vectors(self, model: str, hashes: Sequence[str]) -> dict[str, bytes]:
        """Cached embeddings of `model` for these text hashes (those present)."""
        out: dict[str, bytes] = {}
        with self.session() as s:
            for start in range(0, len(hashes), 500):
                chunk = list(hashes[start : start + 500])
                rows = s.execute(
                    select(Embedding.text_hash, Embedding.vector).where(
                        Embedding.model == model, Embedding.text_hash.in_(chunk))
                )
                out.update((h, v) for h, v in rows)
        return out

    def save_vectors(self, model: str, dim: int, vectors: dict[str, bytes]) -> None:
        """Add embeddings to the cache; hashes already there (another instance wrote them) are skipped."""
        if not vectors:
            return
        have = self.cached_vectors(model, list(vectors))
        new = [Embedding(model=model, text_hash=h, dim=dim, vector=v) for h, v in vectors.items() if h not in have]
        try:
            with self.session() as s:
                s.add_all(new)
        except IntegrityError:
            logger.info("embedding cache: another writer stored the same vectors first")

    # ---- writes --------------------------------------------------------------------------------

    def _write(self, s: Session, p: Phrase, data: PhraseIn, actor: str) -> None:
        """Set every content field of `p` from a validated entry."""
        texts = _derive_texts(data.text)
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
        p.technique = data.technique
        p.placeholders = placeholders(next(iter(data.text.values())))
        p.status = data.status
        p.source_seed = data.source.seed if data.source else None
        p.source_principle = data.source.principle if data.source else None
        p.updated_by, p.updated_at = actor, utcnow()

    def _create(self, s: Session, data: PhraseIn, actor: str) -> Phrase:
        key = data.key or _new_key(s)
        if s.scalar(select(Phrase.id).where(Phrase.key == key)) is not None:
            raise Conflict(f"a phrase with key {key!r} already exists", key=key)
        p = Phrase(key=key, status=data.status, created_by=actor, updated_by=actor)
        s.add(p)
        self._write(s, p, data, actor)
        p.created_at = p.updated_at
        s.flush()
        s.add(History(phrase_id=p.id, action="create", actor=actor, version=p.version, before=None, after=_snapshot(p)))
        return p

    def create(self, data: PhraseIn, actor: str) -> dict[str, Any]:
        try:
            with self.session() as s:
                p = self._create(s, data, actor)
                s.flush()
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
                current=_jsonable(public_of(p)),
            )

    def update(self, phrase_id: int, changes: dict[str, Any], version: int, actor: str) -> dict[str, Any]:
        """Apply a partial change (fields of PhraseIn; `text` merges per language, "" removes one)."""
        with self.session() as s:
            p = self._get(s, phrase_id)
            self._check_version(p, version)
            before = _snapshot(p)
            merged = entry_of(p)
            if "text" in changes:
                text = dict(merged["text"])
                text.update(changes["text"] or {})
                merged["text"] = {lang: t for lang, t in text.items() if t}
            merged.update({k: v for k, v in changes.items() if k != "text"})
            data = _validate(merged)
            action = "status" if set(changes) == {"status"} else "update"
            out = self._commit_change(s, p, data, actor, action, before)
        self._changed([phrase_id] if out["version"] != before["version"] else [])
        return out

    def _commit_change(
        self, s: Session, p: Phrase, data: PhraseIn, actor: str, action: str, before: dict[str, Any]
    ) -> dict[str, Any]:
        if _same(p, data):
            return public_of(p)
        self._write(s, p, data, actor)
        s.flush()  # bumps the version, guarded by WHERE version = <read version>
        s.add(History(phrase_id=p.id, action=action, actor=actor, version=p.version, before=before, after=_snapshot(p)))
        return public_of(p)

    def set_status(
        self, phrase_id: int, status: str, version: int | None, actor: str, action: str = "status"
    ) -> dict[str, Any]:
        with self.session() as s:
            p = self._get(s, phrase_id)
            self._check_version(p, version)
            before = _snapshot(p)
            data = _validate({**entry_of(p), "status": status})
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
                for data in entries:
                    p = existing.get(data.key) if data.key else None
                    if p is None:
                        created = self._create(s, data, actor)
                        report.created.append(created.key)
                        touched.append(created.id)
                        continue
                    before = _snapshot(p)
                    if _same(p, data):
                        report.unchanged.append(p.key)
                        continue
                    self._write(s, p, data, actor)
                    s.flush()
                    s.add(History(phrase_id=p.id, action="update", actor=actor, version=p.version,
                                  before=before, after=_snapshot(p)))
                    report.updated.append(p.key)
                    touched.append(p.id)
                if dry_run:
                    s.rollback()
        except IntegrityError as exc:
            raise Conflict("another import or edit wrote the same phrases at the same time; nothing was saved, "
                           "run the import again") from exc
        if not dry_run:
            self._changed(touched)
        return report

    def seed(self, directory: Path) -> int:
        """Load the shipped phrase bank: add entries whose key is new, never touch existing ones."""
        if not directory.is_dir():
            logger.warning("phrase bank: %s is not a directory; no shipped phrases loaded", directory)
            return 0
        shipped = [e for _, e in load_shipped(directory)]
        with self.session() as s:
            have = set(s.scalars(select(Phrase.key)))
        new = [e for e in shipped if e.key not in have]
        if new:
            self.import_entries(new, SHIPPED_ACTOR)
        logger.info("phrase bank: %d shipped phrases in %s, %d new loaded", len(shipped), directory, len(new))
        return len(new)

    # ---- usage ---------------------------------------------------------------------------------

    def record_usage(self, phrase_id: int, event_name: str, n: int = 1, day: date | None = None) -> None:
        if event_name not in USAGE_EVENTS:
            raise InvalidInput(f"unknown usage event {event_name!r}; expected one of {', '.join(USAGE_EVENTS)}")
        day = day or datetime.now(UTC).date()
        column = getattr(Usage, event_name)
        for attempt in range(2):
            try:
                with self.session() as s:
                    self._get(s, phrase_id)
                    row = s.scalar(select(Usage).where(Usage.phrase_id == phrase_id, Usage.day == day))
                    if row is None:
                        counts = {name: n if name == event_name else 0 for name in USAGE_EVENTS}
                        s.add(Usage(phrase_id=phrase_id, day=day, **counts))
                    else:
                        s.execute(
                            Usage.__table__.update().where(Usage.id == row.id).values({column: column + n})
                        )
                return
            except IntegrityError:
                if attempt:  # two first events of the day raced on the insert; the retry updates
                    raise

    def record_usage_many(self, counts: dict[tuple[int, str], int], day: date | None = None) -> None:
        """Add many counts in one transaction; phrases deleted meanwhile are skipped."""
        day = day or datetime.now(UTC).date()
        with self.session() as s:
            known = set(s.scalars(select(Phrase.id).where(Phrase.id.in_({pid for pid, _ in counts}))))
            rows = {r.phrase_id: r for r in s.scalars(
                select(Usage).where(Usage.day == day, Usage.phrase_id.in_(known)))}
            for (pid, event_name), n in counts.items():
                if pid not in known or event_name not in USAGE_EVENTS:
                    continue
                row = rows.get(pid)
                if row is None:
                    row = rows[pid] = Usage(phrase_id=pid, day=day, shown=0, used=0, dismissed=0)
                    s.add(row)
                setattr(row, event_name, getattr(row, event_name) + n)

    def usage(self, phrase_id: int, days: int = 30) -> dict[str, Any]:
        since = datetime.now(UTC).date() - timedelta(days=days - 1)
        with self.session() as s:
            self._get(s, phrase_id)
            rows = s.scalars(
                select(Usage).where(Usage.phrase_id == phrase_id, Usage.day >= since).order_by(Usage.day)
            ).all()
            per_day = [{"day": r.day, "shown": r.shown, "used": r.used, "dismissed": r.dismissed} for r in rows]
        return {"phrase_id": phrase_id, "days": per_day, "totals": _totals(per_day)}

    def stats(self) -> dict[str, Any]:
        """Counts by status, language and label, and usage totals with the most used phrases."""
        with self.session() as s:
            by_status = dict(s.execute(select(Phrase.status, func.count()).group_by(Phrase.status)).all())
            by_lang = dict(s.execute(select(PhraseText.lang, func.count()).group_by(PhraseText.lang)).all())
            approved = select(Phrase.id).where(Phrase.status == "approved")
            tag_rows = s.execute(
                select(PhraseTag.kind, PhraseTag.value, func.count())
                .where(PhraseTag.phrase_id.in_(approved))
                .group_by(PhraseTag.kind, PhraseTag.value)
            ).all()
            usage_rows = s.execute(
                select(Usage.phrase_id, func.sum(Usage.shown), func.sum(Usage.used), func.sum(Usage.dismissed))
                .group_by(Usage.phrase_id)
            ).all()
        labels: dict[str, Counter[str]] = {kind: Counter() for kind in TAG_KINDS.values()}
        for kind, value, n in tag_rows:
            labels[kind][value] = n
        per_phrase = [
            {"phrase_id": pid, "shown": a or 0, "used": b or 0, "dismissed": c or 0} for pid, a, b, c in usage_rows
        ]
        top = sorted(per_phrase, key=lambda r: (-r["used"], r["phrase_id"]))[:10]
        return {
            "phrases": {"total": sum(by_status.values()), "by_status": by_status, "by_lang": by_lang},
            "approved_by_label": {kind: dict(sorted(c.items())) for kind, c in labels.items()},
            "usage": _totals(per_phrase),
            "top_used": [{**r, **_totals([r])} for r in top],
        }


def _totals(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    shown, used, dismissed = (sum(r[k] for r in rows) for k in USAGE_EVENTS)
    return {"shown": shown, "used": used, "dismissed": dismissed,
            "acceptance_rate": round(used / shown, 4) if shown else None}


def _same(p: Phrase, data: PhraseIn) -> bool:
    """Whether writing `data` would leave the phrase as it is."""
    return _validate(entry_of(p)).model_dump() == data.model_dump()


def _validate(entry: dict[str, Any]) -> PhraseIn:
    from pydantic import ValidationError

    try:
        return PhraseIn.model_validate(entry)
    except ValidationError as exc:
        raise InvalidInput(_first_error(exc), errors=[_err(e) for e in exc.errors()]) from exc


def _err(e: Any) -> dict[str, Any]:
    return {"loc": list(e["loc"]), "msg": e["msg"]}


def _first_error(exc: Any) -> str:
    e = exc.errors()[0]
    where = ".".join(str(x) for x in e["loc"]) or "phrase"
    return f"{where}: {e['msg']}"


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in d.items()}


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


__all__ = ["ImportReport", "PhraseFilter", "PhraseStore", "check_texts", "entry_of", "public_of"]
