"""Benchmark: analysis time per message in an ongoing conversation (median, p95, p99), rules only and with
the learned emotion/situation models; the message vectors are encoded before the clock starts (the hub
encodes once per message for retrieval and analysis), so the figures exclude the encode."""

from __future__ import annotations

import platform
import statistics
import time

import numpy as np

from assist.analysis import Analyzer
from assist.analysis.learned import load_shipped

TURNS = [
    ("customer", "你好，我的订单三天了还没发货，怎么回事"),
    ("agent", "您好，我帮您查一下，请稍等"),
    ("customer", "快点好吗，我明天就要用"),
    ("customer", "到底什么时候能发？？"),
    ("agent", "很抱歉，仓库那边显示缺货，暂时无法发货"),
    ("customer", "太好了，又要等。再不发我就去12315投诉"),
    ("customer", "Where is my order? I already told you the number is 55321!!"),
    ("agent", "Could you confirm the delivery address?"),
    ("customer", "ok"),
    ("customer", "這就是你們所謂的優質服務？叫你們主管來"),
    ("customer", "I'm not happy, the quality is nothing like the photos, really disappointed"),
    ("customer", "好的，谢谢，问题解决了"),
]


def run(analyzer: Analyzer, rounds: int, vectors: dict[str, np.ndarray] | None) -> list[float]:
    timings: list[float] = []
    for r in range(rounds):
        conv = analyzer.conversation()
        t = 0.0
        for role, text in TURNS:
            t += 7 if r % 2 else 45
            vec = vectors.get(text) if vectors and role == "customer" else None
            start = time.perf_counter()
            conv.add(role, text, t, vector=vec)
            if role == "customer":
                timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return timings


def report(name: str, timings: list[float]) -> None:
    q = statistics.quantiles(timings, n=100)
    print(f"{name}: analysis per customer message in an ongoing conversation ({len(timings)} messages)")
    print(f"  median {statistics.median(timings):.3f} ms  p95 {q[94]:.3f} ms  p99 {q[98]:.3f} ms")


def main(rounds: int = 400) -> None:
    analyzer = Analyzer.load()
    report("rules only", run(analyzer, rounds, None))
    models = load_shipped()
    if models is not None:
        from assist.retrieval.embedder import encode_queries, shared_embedder

        encoder = shared_embedder(models.encoder)
        texts = [text for role, text in TURNS if role == "customer"]
        vectors = dict(zip(texts, encode_queries(encoder, texts), strict=True))  # before the clock
        learned = Analyzer.load(encoder=encoder)
        assert learned.wants_vector, learned.model_state()
        report(f"learned models + rules ({models.encoder}; encode excluded)", run(learned, rounds, vectors))
    print(f"python {platform.python_version()}  machine {platform.machine()}")

    long_text = "你们的服务太差了！" * 11_000
    start = time.perf_counter()
    analyzer.analyze_message(long_text)
    print(f"100k-character message (truncated to the analysis limit): {(time.perf_counter() - start) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
