"""Rewrite latency per ~200-character draft: median, p95, p99 over a few thousand drafts (zh-Hans, zh-Hant, en).

`--cpu` times each draft with the thread's CPU clock instead of the wall clock: on a machine shared with
other work, the wall clock also counts the time the thread waited for a core.

`--cold` empties the script-conversion caches before every draft (assist.lang, the engine's converted rule
words): each draft is then converted as if no piece of it had been seen before, the worst case. Without it,
the drafts share pieces as an agent's successive drafts do. It also empties the learned flagger's clause cache and
the per-sentence caches of the checks that a rewrite is not worse than the draft.

`--no-flagger` loads the rewriter without the learned flagger (the rules alone), to compare.
"""

from __future__ import annotations

import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assist import lang
from assist.lang import to_traditional
from assist.rewrite import Rewriter, engine
from assist.rewrite.evaluate import DEFAULT_SET, load_set

N = 3000
TARGET = 200


def drafts(seed: int = 7) -> list[str]:
    """~200-character drafts glued from the eval set's drafts (negative and clean), per language."""
    rng = random.Random(seed)
    pool: dict[str, list[str]] = {}
    for d in load_set(DEFAULT_SET):
        pool.setdefault(d.lang, []).append(d.text)
    pool["zh-Hant"] += [to_traditional(t) for t in pool["zh-Hans"]]
    out = []
    for i in range(N):
        texts = pool[("zh-Hans", "zh-Hant", "en")[i % 3]]
        sep = " " if i % 3 == 2 else ""
        s = ""
        while len(s) < TARGET:
            s += (sep if s else "") + rng.choice(texts)
        out.append(s[:TARGET])
    return out


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def clear_conversion_caches(rewriter: Rewriter) -> None:
    for cached in (lang._convert_cached, lang._convert_piece, lang._convert_char, engine._convert_literal):
        cached.cache_clear()
    if rewriter.flagger is not None:
        rewriter.flagger.score.cache_clear()
    for lg in rewriter.langs:  # round 4's per-sentence checks
        lg.judge.cache_clear()
        lg.clauses_of.cache_clear()


def main() -> None:
    clock = time.thread_time if "--cpu" in sys.argv[1:] else time.perf_counter
    cold = "--cold" in sys.argv[1:]
    rewriter = Rewriter.load(learned="--no-flagger" not in sys.argv[1:])
    batch = drafts()
    for text in batch[:200]:  # warm caches (regex, OpenCC)
        rewriter.rewrite(text)
    times: dict[str, list[float]] = {"zh-Hans": [], "zh-Hant": [], "en": []}
    changed = 0
    for text in batch:
        if cold:
            clear_conversion_caches(rewriter)
        t0 = clock()
        result = rewriter.rewrite(text)
        times[result.lang].append((clock() - t0) * 1000)
        changed += result.changed
    every = [t for ts in times.values() for t in ts]
    print(
        f"python {platform.python_version()}, {len(rewriter.rules)} rules, {len(batch)} drafts of {TARGET} chars,"
        f" {changed} changed, {'thread CPU' if clock is time.thread_time else 'wall'} clock"
        f"{', conversion caches emptied per draft' if cold else ''}"
        f"{', learned flagger' if rewriter.flagger is not None else ', rules only'}"
    )
    for name, ts in [("all", every), *times.items()]:
        print(
            f"{name:<8} n={len(ts):<5} median {statistics.median(ts):.3f} ms   p95 {pct(ts, 95):.3f} ms"
            f"   p99 {pct(ts, 99):.3f} ms   max {max(ts):.3f} ms"
        )


if __name__ == "__main__":
    main()
