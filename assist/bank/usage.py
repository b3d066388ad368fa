"""Usage of phrases: shown / used / dismissed counts per phrase and day, and the bank's stats."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assist.bank.db import Sessions
from assist.bank.models import Phrase, PhraseTag, PhraseText, Usage
from assist.bank.records import TAG_KINDS
from assist.errors import InvalidInput, PhraseNotFound

USAGE_EVENTS = ("shown", "used", "dismissed")


def _check(s: Session, phrase_id: int) -> None:
    if s.get(Phrase, phrase_id) is None:
        raise PhraseNotFound(f"phrase {phrase_id} not found")


class UsageStore:
    def __init__(self, db: Sessions) -> None:
        self.db = db

    def record(self, phrase_id: int, event_name: str, n: int = 1, day: date | None = None) -> None:
        if event_name not in USAGE_EVENTS:
            raise InvalidInput(f"unknown usage event {event_name!r}; expected one of {', '.join(USAGE_EVENTS)}")
        day = day or datetime.now(UTC).date()
        column = getattr(Usage, event_name)
        for attempt in range(2):
            try:
                with self.db.session() as s:
                    _check(s, phrase_id)
                    row = s.scalar(select(Usage).where(Usage.phrase_id == phrase_id, Usage.day == day))
                    if row is None:
                        counts = {name: n if name == event_name else 0 for name in USAGE_EVENTS}
                        s.add(Usage(phrase_id=phrase_id, day=day, **counts))
                    else:
                        s.execute(update(Usage).where(Usage.id == row.id).values({column: column + n}))
                return
            except IntegrityError:
                if attempt:  # two first events of the day raced on the insert; the retry updates
                    raise

    def record_many(self, counts: dict[tuple[int, str], int], day: date | None = None) -> None:
        """Add many counts in one transaction; phrases deleted meanwhile are skipped."""
        day = day or datetime.now(UTC).date()
        with self.db.session() as s:
            known = set(s.scalars(select(Phrase.id).where(Phrase.id.in_({pid for pid, _ in counts}))))
            rows = {
                r.phrase_id: r for r in s.scalars(select(Usage).where(Usage.day == day, Usage.phrase_id.in_(known)))
            }
            for (pid, event_name), n in counts.items():
                if pid not in known or event_name not in USAGE_EVENTS:
                    continue
                row = rows.get(pid)
                if row is None:
                    row = rows[pid] = Usage(phrase_id=pid, day=day, shown=0, used=0, dismissed=0)
                    s.add(row)
                setattr(row, event_name, getattr(row, event_name) + n)

    def of(self, phrase_id: int, days: int = 30) -> dict[str, Any]:
        """A phrase's counts per day over the last `days` days, and their totals."""
        since = datetime.now(UTC).date() - timedelta(days=days - 1)
        with self.db.session() as s:
            _check(s, phrase_id)
            rows = s.scalars(
                select(Usage).where(Usage.phrase_id == phrase_id, Usage.day >= since).order_by(Usage.day)
            ).all()
            per_day = [{"day": r.day, "shown": r.shown, "used": r.used, "dismissed": r.dismissed} for r in rows]
        return {"phrase_id": phrase_id, "days": per_day, "totals": _totals(per_day)}

    def stats(self) -> dict[str, Any]:
        """Counts by status, language and label, and usage totals with the most used phrases."""
        with self.db.session() as s:
            by_status = dict(s.execute(select(Phrase.status, func.count()).group_by(Phrase.status)).all())
            by_lang = dict(s.execute(select(PhraseText.lang, func.count()).group_by(PhraseText.lang)).all())
            approved = select(Phrase.id).where(Phrase.status == "approved")
            tag_rows = s.execute(
                select(PhraseTag.kind, PhraseTag.value, func.count())
                .where(PhraseTag.phrase_id.in_(approved))
                .group_by(PhraseTag.kind, PhraseTag.value)
            ).all()
            usage_rows = s.execute(
                select(
                    Usage.phrase_id, func.sum(Usage.shown), func.sum(Usage.used), func.sum(Usage.dismissed)
                ).group_by(Usage.phrase_id)
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
    return {
        "shown": shown,
        "used": used,
        "dismissed": dismissed,
        "acceptance_rate": round(used / shown, 4) if shown else None,
    }
