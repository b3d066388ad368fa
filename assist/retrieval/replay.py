"""Replay measurement of the learned feature: does replaying agents' choices on the first part of a labelled set
(in time) raise top-1 on the second part?

The labelled messages are put in a time order (a seeded shuffle: the files are grouped by language and
emotion) and split in two. A simulated agent goes through the first part with the live ranking (which learns
as it goes): it uses the highest suggestion among the `shown` (5) that fits the message's labels
(assist.retrieval.evaluate.relevant), or, when none does, the first fitting one further down (`depth`, as if
it searched the bank), and dismisses the shown ones ranked above its pick that do not fit. The second part is
then ranked twice, without the memory and with what the first part left in it (frozen), and hit@1 / hit@3 /
MRR are compared. Every message is encoded once (`vectors`), as the live hub does."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sqlalchemy import delete

from assist.bank.db import Sessions
from assist.bank.feedback import FeedbackMemory
from assist.bank.models import FeedbackEvent
from assist.config import FeedbackSettings
from assist.retrieval.evaluate import DEPTH, EvalItem, relevant
from assist.schemas import Analysis
from assist.suggest import Suggester

STEP = 60.0  # simulated seconds between two messages
TEAM = "replay"


def load_messages(path: Path) -> list[EvalItem]:
    """A customer-message corpus file (eval/customer_messages/*.yml: `emotion`, `also`, `situations`) as
    evaluation items: a reply fits when it shares a situation and one of the emotions (primary or `also`)."""
    rows = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or []
    return [
        EvalItem(
            id=r["id"],
            lang=r["lang"],
            text=r["text"],
            situations=r["situations"],
            emotions=[r["emotion"], *r.get("also", [])],
        )
        for r in rows
    ]


def load_any(path: Path) -> list[EvalItem]:
    """eval/retrieval*.yml (messages without earlier turns) or eval/customer_messages/*.yml, told apart by
    their keys."""
    from assist.retrieval.evaluate import load_set

    rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if rows and isinstance(rows, list) and isinstance(rows[0], dict) and "emotion" in rows[0]:
        return load_messages(path)
    return [item for item in load_set(path) if not item.context]  # the replay ranks single messages


def _ranks(item: EvalItem, items: Sequence[Mapping[str, Any]]) -> list[int]:
    return [i for i, s in enumerate(items, 1) if relevant(item, s)]


def _score(sums: dict[str, dict[str, float]], group: str, first: int | None) -> None:
    for g in (group, "all"):
        row = sums[g]
        row["n"] += 1
        row["hit@1"] += first == 1
        row["hit@3"] += first is not None and first <= 3
        row["mrr"] += 1.0 / first if first else 0.0


def _table(sums: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {
        g: {"n": int(r["n"]), **{m: round(r[m] / r["n"], 4) for m in ("hit@1", "hit@3", "mrr")}}
        for g, r in sorted(sums.items())
    }


class Replay:
    """Runs the replay on one suggester (its searcher indexes the bank in `db`, whose phrases the memory checks)."""

    def __init__(
        self,
        suggester: Suggester,
        db: Sessions,
        items: Sequence[EvalItem],
        vectors: np.ndarray,
        analyses: Sequence[Analysis],
        model: str,
    ) -> None:
        self.suggester = suggester
        self.db = db
        self.items = list(items)
        self.vectors = vectors
        self.analyses = list(analyses)
        self.model = model

    def run(
        self,
        settings: FeedbackSettings,
        seed: int = 0,
        split: float = 0.5,
        shown: int = 5,
        depth: int = DEPTH,
        dismiss: bool = True,
    ) -> dict[str, Any]:
        """One time order (`seed`): the second part's figures without and with the first part's feedback."""
        order = list(range(len(self.items)))
        random.Random(seed).shuffle(order)
        cut = int(len(order) * split)
        first, second = order[:cut], order[cut:]
        with self.db.session() as s:
            s.execute(delete(FeedbackEvent).where(FeedbackEvent.team == TEAM))
        now = [0.0]
        memory = FeedbackMemory(self.db, settings, self.model, self.vectors.shape[1], clock=lambda: now[0])
        self.suggester.memory = memory
        picks = dismissals = unpicked = 0
        for step, i in enumerate(first):
            now[0] = step * STEP
            item, vector = self.items[i], self.vectors[i]
            ranked = self._rank(i).items
            rows = [s.model_dump() for s in ranked]
            ranks = _ranks(item, rows[:depth])
            if not ranks:
                unpicked += 1
                continue
            pick = ranks[0]
            memory.record(TEAM, ranked[pick - 1].phrase_id, "used", vector, now[0])
            picks += 1
            if dismiss:
                for r in range(1, min(pick, shown + 1)):
                    memory.record(TEAM, ranked[r - 1].phrase_id, "dismissed", vector, now[0])
                    dismissals += 1
        now[0] = len(first) * STEP
        before: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        after: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        moved = {"up": 0, "down": 0}
        for i in second:
            item = self.items[i]
            self.suggester.memory = None
            base = _ranks(item, [s.model_dump() for s in self._rank(i).items])
            self.suggester.memory = memory
            learned = _ranks(item, [s.model_dump() for s in self._rank(i).items])
            b, a = (base[0] if base else None), (learned[0] if learned else None)
            _score(before, item.lang, b)
            _score(after, item.lang, a)
            bb, aa = b or depth + 1, a or depth + 1
            moved["up"] += aa < bb
            moved["down"] += aa > bb
        self.suggester.memory = None
        return {
            "seed": seed,
            "first": len(first),
            "second": len(second),
            "picks": picks,
            "dismissals": dismissals,
            "no_fit_in_depth": unpicked,
            "without": _table(before),
            "with": _table(after),
            "moved": moved,
        }

    def _rank(self, i: int) -> Any:
        return self.suggester.for_analysis(
            self.items[i].text, self.analyses[i], k=DEPTH, team=TEAM, vector=self.vectors[i]
        )


def summary(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean over the runs (time orders) per language, without and with the learned feature."""
    out: dict[str, Any] = {"runs": len(runs), "without": {}, "with": {}}
    for side in ("without", "with"):
        groups = runs[0][side].keys()
        for g in groups:
            out[side][g] = {
                m: round(float(np.mean([r[side][g][m] for r in runs])), 4) for m in ("hit@1", "hit@3", "mrr")
            } | {"n": runs[0][side][g]["n"]}
    out["hit@1 per run"] = [(r["without"]["all"]["hit@1"], r["with"]["all"]["hit@1"]) for r in runs]
    out["moved"] = {k: sum(r["moved"][k] for r in runs) for k in ("up", "down")}
    return out


def render(report: Mapping[str, Any]) -> str:
    lines = [f"{'lang':<8} {'n':>4}   {'hit@1':>13} {'hit@3':>13} {'MRR':>13}   (without -> with)"]
    for g, r in report["without"].items():
        w = report["with"][g]
        cells = " ".join(f"{r[m]:.3f}->{w[m]:.3f}" for m in ("hit@1", "hit@3", "mrr"))
        lines.append(f"{g:<8} {r['n']:>4}   {cells}")
    lines.append(f"runs (time orders): {report['runs']}; all hit@1 per run: {report['hit@1 per run']}")
    lines.append(
        f"second-part messages whose first fit moved up / down: {report['moved']['up']} / {report['moved']['down']}"
    )
    return "\n".join(lines)


def encode_cached(
    encoder: Any, texts: Sequence[str], cache: Path | None, encode: Callable[..., np.ndarray]
) -> np.ndarray:
    """Query vectors of texts, kept in an .npz under `cache` keyed by the model and the texts (long CPU work)."""
    import hashlib

    key = hashlib.sha256(("\n".join([encoder.name, *texts])).encode("utf-8")).hexdigest()[:16]
    path = cache / f"replay-{key}.npy" if cache is not None else None
    if path is not None and path.exists():
        return np.load(path)
    vectors = encode(encoder, list(texts))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors
