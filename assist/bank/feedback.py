"""Agents' feedback as a memory the ranking learns from: each use or dismissal of a suggested phrase is kept as
the customer message's vector (not its text, unless ASSIST_FEEDBACK__KEEP_TEXT), the phrase, the team and the
time, in the store's `feedback_events` table, so every instance shares it.

`FeedbackMemory.neighbours(team, vector)` finds the team's past events whose messages are nearest to a new one
and sums them per phrase, each weighted by its age (half-life): a phrase used for similar messages scores
towards +1, a dismissed one towards -1 (assist/retrieval/searcher.py adds `w_learned` times that score). The
team's rows are held in memory as numpy arrays and topped up from the store when rows change: this instance's
own writes at once, other instances' through a notice on the broker (`<prefix>:feedback`), like bank changes.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import delete, func, select

from assist.bank.db import Sessions
from assist.bank.models import FeedbackEvent, Phrase
from assist.broker import Broker
from assist.config import FeedbackSettings
from assist.errors import InvalidInput, PhraseNotFound

logger = logging.getLogger(__name__)

ACTIONS = ("used", "dismissed")
DAY = 86_400.0


def team_key(team: str | None) -> str:
    """The stored team: "" stands for agents without a team."""
    return team or ""


def query_model(encoder: Any) -> str:
    """The key of an encoder's customer-message vectors: events of another model are never compared."""
    return f"{encoder.name}|query"


class LearnedStat(NamedTuple):
    """What a team's agents did with a phrase for messages like this one: events (nearest messages, decayed in
    `score` only) and the score in (-1, 1): used minus dismissed over their sum plus the prior."""

    used: int
    dismissed: int
    score: float


@dataclass
class _TeamRows:
    ids: np.ndarray  # int64, ascending
    phrases: np.ndarray  # int64
    used: np.ndarray  # bool
    at: np.ndarray  # float64 seconds
    vectors: np.ndarray  # float32 (n, dim), unit length

    @classmethod
    def empty(cls, dim: int) -> _TeamRows:
        return cls(
            np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0), np.zeros((0, dim), np.float32)
        )

    def __len__(self) -> int:
        return len(self.ids)

    def extended(self, other: _TeamRows) -> _TeamRows:
        return _TeamRows(
            np.concatenate([self.ids, other.ids]),
            np.concatenate([self.phrases, other.phrases]),
            np.concatenate([self.used, other.used]),
            np.concatenate([self.at, other.at]),
            np.concatenate([self.vectors, other.vectors]),
        )

    def where(self, keep: np.ndarray) -> _TeamRows:
        return _TeamRows(self.ids[keep], self.phrases[keep], self.used[keep], self.at[keep], self.vectors[keep])


class FeedbackMemory:
    """Records agents' uses and dismissals and answers, for a new message, what was chosen for similar ones."""

    def __init__(
        self, db: Sessions, settings: FeedbackSettings, model: str, dim: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.settings = settings
        self.model = model  # the default model: the one of calls that name none
        self.dim = dim
        # Every model whose vectors are kept (an encoder per language: assist.retrieval.routing), with its size.
        # Events are compared only with events of their own model.
        self.models: dict[str, int] = {model: dim}
        self.clock = clock
        self.origin = secrets.token_hex(6)
        # Loaded rows per (model, team); the keys `_key` makes.
        self._rows: dict[tuple[str, str], _TeamRows] = {}
        self._last: dict[tuple[str, str], int] = {}  # per loaded team and model: the highest event id read
        self._stale: set[tuple[str, str]] = set()  # loaded ones with rows newer than `_last` (or rows gone)
        self._lock = threading.Lock()
        self._announce: Callable[[dict[str, Any]], None] | None = None  # set by `follow`

    def add_model(self, model: str, dim: int) -> None:
        """Keep (and compare) the vectors of another model too: `record`, `has` and `neighbours` take it."""
        self.models[model] = dim

    def _model(self, model: str | None) -> tuple[str, int]:
        name = model or self.model
        if name not in self.models:
            raise InvalidInput(f"feedback vectors of model {name!r} are not kept here")
        return name, self.models[name]

    @property
    def recording(self) -> bool:
        return self.settings.record

    @property
    def learning(self) -> bool:
        return self.settings.learn

    # ---- writing ----------------------------------------------------------------------------------

    def record(
        self,
        team: str | None,
        phrase_id: int,
        action: str,
        vector: np.ndarray,
        t: float | None = None,
        text: str | None = None,
        model: str | None = None,
    ) -> None:
        """Keep one use or dismissal (`vector` of `model`, the default one unless given). The team's oldest
        events beyond `max_rows_per_team` are dropped."""
        if not self.settings.record:
            return
        if action not in ACTIONS:
            raise InvalidInput(f"unknown feedback action {action!r}; expected one of {', '.join(ACTIONS)}")
        name, dim = self._model(model)
        v = np.asarray(vector, dtype=np.float32).reshape(-1)
        if v.shape[0] != dim:
            raise InvalidInput(f"a feedback vector has {v.shape[0]} values; the model's have {dim}")
        norm = float(np.linalg.norm(v))
        if not math.isfinite(norm) or norm == 0:
            raise InvalidInput("a feedback vector must be finite and not zero")
        key = team_key(team)
        with self.db.session() as s:
            if s.get(Phrase, phrase_id) is None:
                raise PhraseNotFound(f"phrase {phrase_id} not found")
            s.add(
                FeedbackEvent(
                    team=key,
                    phrase_id=phrase_id,
                    action=action,
                    model=name,
                    dim=dim,
                    vector=(v / norm).tobytes(),
                    at=float(self.clock() if t is None else t),
                    text=text if self.settings.keep_text else None,
                )
            )
            s.flush()
            cutoff = s.scalar(
                select(FeedbackEvent.id)
                .where(FeedbackEvent.team == key)
                .order_by(FeedbackEvent.id.desc())
                .offset(self.settings.max_rows_per_team)
                .limit(1)
            )
            if cutoff is not None:
                s.execute(delete(FeedbackEvent).where(FeedbackEvent.team == key, FeedbackEvent.id <= cutoff))
        self._changed({"team": key, "floor": cutoff})

    def reset(self, phrase_id: int) -> int:
        """Forget every team's events about a phrase; how many there were."""
        with self.db.session() as s:
            if s.get(Phrase, phrase_id) is None:
                raise PhraseNotFound(f"phrase {phrase_id} not found")
            gone = s.scalar(select(func.count()).where(FeedbackEvent.phrase_id == phrase_id)) or 0
            s.execute(delete(FeedbackEvent).where(FeedbackEvent.phrase_id == phrase_id))
        self._changed({"reset": phrase_id})
        return int(gone)

    def of(self, phrase_id: int) -> dict[str, Any]:
        """A phrase's events per team (all models): used, dismissed, the latest time; for the console."""
        with self.db.session() as s:
            if s.get(Phrase, phrase_id) is None:
                raise PhraseNotFound(f"phrase {phrase_id} not found")
            rows = s.execute(
                select(FeedbackEvent.team, FeedbackEvent.action, func.count(), func.max(FeedbackEvent.at))
                .where(FeedbackEvent.phrase_id == phrase_id)
                .group_by(FeedbackEvent.team, FeedbackEvent.action)
            ).all()
        teams: dict[str, dict[str, Any]] = {}
        for team, action, n, last in rows:
            entry = teams.setdefault(team, {"team": team or None, "used": 0, "dismissed": 0, "last_at": None})
            entry[action] = int(n)
            entry["last_at"] = max(filter(None, [entry["last_at"], float(last)]), default=None)
        listed = sorted(teams.values(), key=lambda e: e["team"] or "")
        return {
            "phrase_id": phrase_id,
            "learning": self.settings.learn,
            "half_life_days": self.settings.half_life_days,
            "used": sum(e["used"] for e in listed),
            "dismissed": sum(e["dismissed"] for e in listed),
            "teams": listed,
        }

    # ---- reading ----------------------------------------------------------------------------------

    def has(self, team: str | None, model: str | None = None) -> bool:
        """Whether the team has any event of this model (the default one unless given), so a message is worth
        comparing."""
        if (model or self.model) not in self.models:
            return False
        return len(self._team(team_key(team), model or self.model)) > 0

    def neighbours(
        self, team: str | None, vector: np.ndarray, k: int | None = None, model: str | None = None
    ) -> dict[int, LearnedStat]:
        """Per phrase, what the team did for the `k` past messages nearest to this one (cosine at least
        `min_similarity`), each event weighted by its age. `vector` is of `model` (the default one unless given):
        only events of that model are compared."""
        name = model or self.model
        if name not in self.models:
            return {}
        rows = self._team(team_key(team), name)
        if not len(rows):
            return {}
        v = np.asarray(vector, dtype=np.float32).reshape(-1)
        if v.shape[0] != self.models[name]:
            return {}
        norm = float(np.linalg.norm(v))
        if not norm:
            return {}
        # einsum, not `@`: a matrix-vector product through multi-threaded BLAS took 18-40 ms here on a loaded
        # 2-core machine (threads spinning for cores), einsum's single-threaded loop 2-3 ms (bench_feedback.py)
        sims = np.einsum("ij,j->i", rows.vectors, v / norm)
        near = np.flatnonzero(sims >= self.settings.min_similarity)
        k = k or self.settings.neighbours
        if len(near) > k:
            near = near[np.argpartition(-sims[near], k - 1)[:k]]
        if not len(near):
            return {}
        age = np.maximum(self.clock() - rows.at[near], 0.0)
        weight = 0.5 ** (age / (self.settings.half_life_days * DAY))
        phrases, used = rows.phrases[near], rows.used[near]
        out: dict[int, LearnedStat] = {}
        for pid in np.unique(phrases):
            mine = phrases == pid
            u = float(weight[mine & used].sum())
            d = float(weight[mine & ~used].sum())
            score = (u - d) / (u + d + self.settings.prior)
            out[int(pid)] = LearnedStat(int((mine & used).sum()), int((mine & ~used).sum()), round(score, 4))
        return out

    def _team(self, team: str, model: str | None = None) -> _TeamRows:
        key = (model or self.model, team)
        with self._lock:
            rows = self._rows.get(key)
            if rows is not None and key not in self._stale:
                return rows
            last = self._last.get(key, 0) if rows is not None else 0
            new = self._load(key, after=last)
            rows = new if rows is None else rows.extended(new)
            if len(rows) > self.settings.max_rows_per_team:
                rows = rows.where(np.arange(len(rows)) >= len(rows) - self.settings.max_rows_per_team)
            self._rows[key] = rows
            self._last[key] = int(rows.ids[-1]) if len(rows) else last
            self._stale.discard(key)
            return rows

    def _load(self, key: tuple[str, str], after: int) -> _TeamRows:
        model, team = key
        dim = self.models[model]
        with self.db.session() as s:
            found = s.execute(
                select(
                    FeedbackEvent.id,
                    FeedbackEvent.phrase_id,
                    FeedbackEvent.action,
                    FeedbackEvent.at,
                    FeedbackEvent.vector,
                )
                .where(
                    FeedbackEvent.team == team,
                    FeedbackEvent.id > after,
                    FeedbackEvent.model == model,
                    FeedbackEvent.dim == dim,
                )
                .order_by(FeedbackEvent.id)
            ).all()
        if not found:
            return _TeamRows.empty(dim)
        return _TeamRows(
            np.array([r[0] for r in found], np.int64),
            np.array([r[1] for r in found], np.int64),
            np.array([r[2] == "used" for r in found], bool),
            np.array([r[3] for r in found], np.float64),
            np.frombuffer(b"".join(r[4] for r in found), dtype=np.float32).reshape(len(found), dim).copy(),
        )

    # ---- changes between instances ------------------------------------------------------------------

    def _changed(self, notice: dict[str, Any]) -> None:
        self.apply(notice)
        self.top_up(notice)  # on the writer's thread, not the next search's
        if self._announce is not None:
            self._announce({**notice, "origin": self.origin})

    def top_up(self, notice: dict[str, Any]) -> None:
        """Read a loaded team's new rows now (after `apply`), so the next search does not wait for them."""
        team = notice.get("team")
        if team is None:
            return
        for model, loaded in list(self._rows):
            if loaded == str(team):
                self._team(loaded, model)

    def apply(self, notice: dict[str, Any]) -> None:
        """Take in a change (this instance's or another's): rows to read again on the next search."""
        with self._lock:
            if "reset" in notice:  # rows of a phrase are gone, in every team: drop them from what is loaded
                pid = int(notice["reset"])
                for name, loaded in list(self._rows.items()):
                    self._rows[name] = loaded.where(loaded.phrases != pid)
                return
            team = str(notice.get("team", ""))
            # Every model's rows of the team (a team not loaded here is read in full when first needed).
            for key in [k for k in self._rows if k[1] == team]:
                rows = self._rows[key]
                floor = notice.get("floor")
                if floor is not None:  # the team's oldest events were dropped in the store
                    self._rows[key] = rows.where(rows.ids > int(floor))
                self._stale.add(key)

    def forget_loaded(self) -> None:
        """Drop every team's rows held in memory; each is read in full from the store when next needed."""
        with self._lock:
            self._rows.clear()
            self._last.clear()
            self._stale.clear()

    async def follow(self, broker: Broker, prefix: str) -> asyncio.Task[None]:
        """Publish this instance's changes and take in every other instance's; returns the listening task."""
        loop = asyncio.get_running_loop()
        channel = f"{prefix}:feedback"
        ready = asyncio.Event()
        pending: set[asyncio.Task[None]] = set()

        async def publish(notice: dict[str, Any]) -> None:
            try:
                await broker.publish(channel, notice)
            except Exception:  # other instances read the rows in full on their next restart
                logger.exception("feedback notice: could not publish a change")

        def announce(notice: dict[str, Any]) -> None:  # from the thread that wrote
            def spawn() -> None:
                task = loop.create_task(publish(notice))
                pending.add(task)
                task.add_done_callback(pending.discard)

            loop.call_soon_threadsafe(spawn)

        async def listen() -> None:
            async with broker.subscribe(channel) as notices:
                ready.set()
                async for notice in notices:
                    if notice.get("origin") != self.origin:
                        self.apply(notice)
                        await asyncio.to_thread(self.top_up, notice)

        task = loop.create_task(listen())
        broker.on_reconnect(self.forget_loaded)  # notices of a broker outage may be lost: read teams afresh
        await ready.wait()
        self._announce = announce
        return task
