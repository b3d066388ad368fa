"""Pre-send guard latency: one ~200-character draft against 1,000 forbidden entries (plus the shipped must-say
checks), median, p95, p99 over a few thousand drafts (zh-Hans, zh-Hant, en); and the whole check (guard and
rewrite, as POST /api/check runs it without the bank phrases for flags).

The 1,000 entries are the shipped rules plus expressions cut from the rewrite corpus's own drafts (2-6
characters of Chinese, 1-3 words of English), so a realistic share of drafts has hits. `--cpu` times with the
thread's CPU clock (on a shared machine the wall clock also counts waiting for a core).
"""

from __future__ import annotations

import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assist.guard.engine import Guard
from assist.guard.schema import GuardRuleIn
from assist.guard.service import GuardService
from assist.guard.shipped import load_shipped
from assist.rewrite import Rewriter
from assist.rewrite.evaluate import DEFAULT_SET, load_set
from bench.bench_rewrite import drafts, pct

ENTRIES = 1000


def entries(seed: int = 11) -> list[dict[str, object]]:
    rng = random.Random(seed)
    rules: list[dict[str, object]] = [r.model_dump() for r in load_shipped()]
    texts = [d.text for d in load_set(DEFAULT_SET)]
    seen: set[str] = set()
    while len([r for r in rules if r["kind"] == "forbidden"]) < ENTRIES:
        t = rng.choice(texts)
        if t.isascii():
            words = t.split()
            n = rng.randint(1, 3)
            if len(words) < n:
                continue
            i = rng.randrange(len(words) - n + 1)
            phrase = " ".join(words[i : i + n]).strip(".,!?;:'\"").lower()
        else:
            n = rng.randint(2, 6)
            if len(t) < n:
                continue
            i = rng.randrange(len(t) - n + 1)
            phrase = t[i : i + n]
        if len(phrase) < 2 or phrase in seen:
            continue
        seen.add(phrase)
        rule = {
            "key": f"bench.{len(rules)}",
            "category": rng.choice(["rude", "buck", "blame", "promise", "secret"]),
            "severity": rng.choice(["warn", "block"]),
            "phrases": [phrase],
            "teams": rng.choice([[], [], ["sales"]]),
            "why": "bench",
        }
        rules.append(GuardRuleIn.model_validate(rule).model_dump())
    return rules


class _Store:  # what GuardService reads: the active rules
    def __init__(self, rules: list[dict[str, object]]) -> None:
        self.rules = rules

    def active(self) -> list[dict[str, object]]:
        return self.rules

    def on_change(self, listener: object) -> None:
        pass


def main() -> None:
    clock = time.thread_time if "--cpu" in sys.argv[1:] else time.perf_counter
    rules = entries()
    guard = Guard.build(rules)
    forbidden = sum(1 for r in rules if r["kind"] == "forbidden")
    batch = drafts()
    replies = [[], ["您好，请稍等。"], ["Hi, let me check."]]
    langs = ["zh-Hans", "zh-Hant", "en"]
    for i, text in enumerate(batch[:200]):  # warm caches (folding, OpenCC)
        guard.check(text, replies[i % 3], "sales", langs[i % 3])
    times: dict[str, list[float]] = {lang: [] for lang in langs}
    with_hits = 0
    for i, text in enumerate(batch):
        t0 = clock()
        hits = guard.check(text, replies[i % 3], "sales", langs[i % 3])
        times[langs[i % 3]].append((clock() - t0) * 1000)
        with_hits += any(h.kind == "forbidden" for h in hits)
    every = [t for ts in times.values() for t in ts]
    print(
        f"python {platform.python_version()}, {forbidden} forbidden entries + "
        f"{len(rules) - forbidden} must-say checks, {len(batch)} drafts of 200 chars, {with_hits} with a "
        f"forbidden hit, {'thread CPU' if clock is time.thread_time else 'wall'} clock"
    )
    print("guard.check")
    for name, ts in [("all", every), *times.items()]:
        print(
            f"  {name:<8} n={len(ts):<5} median {statistics.median(ts):.3f} ms   p95 {pct(ts, 95):.3f} ms"
            f"   p99 {pct(ts, 99):.3f} ms   max {max(ts):.3f} ms"
        )
    service = GuardService(_Store(rules), Rewriter.load())  # type: ignore[arg-type]
    for i, text in enumerate(batch[:200]):
        service.check(text, "auto", replies[i % 3], "sales")
    whole = []
    for i, text in enumerate(batch):
        t0 = clock()
        service.check(text, "auto", replies[i % 3], "sales")
        whole.append((clock() - t0) * 1000)
    print(
        f"whole check (guard + rewrite)   median {statistics.median(whole):.3f} ms   p95 {pct(whole, 95):.3f} ms"
        f"   p99 {pct(whole, 99):.3f} ms   max {max(whole):.3f} ms"
    )


if __name__ == "__main__":
    main()
