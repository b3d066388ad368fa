"""The learned flagger: a small linear model behind the rules (issue 16, round 4).

Rules alone miss wording nobody anticipated. This model reads one clause and says whether it is negative
phrasing and of which family; the engine asks it only about sentences no rule touched (and about the clauses a
rewrite left untouched), and a hit becomes a flag (`<folder>.learned.<family>`), never a rewrite.

Features: character 1-3-grams of the clause (Chinese: on the Simplified matching copy), and for English word 1-2-grams
and character 3-grams. Model: multinomial logistic regression over `clean` and the families, fitted by
`assist train flagger` (scikit-learn, train time only: assist/rewrite/training.py); serving reads
`assist/rewrite/data/flagger.npz` with numpy. MODEL card: assist/rewrite/data/FLAGGER.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

MODEL_FILE = "flagger.npz"
CLEAN = "clean"
_DIGITS = re.compile(r"\d+")
_EN_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[{}]")
_SPACE = re.compile(r"\s+")


def features(text: str, kind: str) -> list[str]:
    """The features of one clause. `kind` is "zh" (characters) or "en" (words and characters)."""
    t = _DIGITS.sub("0", text.lower().replace("’", "'"))
    t = _SPACE.sub(" ", t).strip()
    out: list[str] = []
    if kind == "en":
        toks = _EN_TOKEN.findall(t)
        out += ["w:" + w for w in toks]
        out += ["b:" + a + " " + b for a, b in zip(toks, toks[1:], strict=False)]
        for w in toks:
            s = f"<{w}>"
            out += ["c:" + s[i : i + 3] for i in range(len(s) - 2)]
        return out
    s = f"<{t}>"
    n = len(s)
    for k in (1, 2, 3):
        out += [s[i : i + k] for i in range(n - k + 1)]
    return out


@dataclass(frozen=True, slots=True)
class _Head:
    index: dict[str, int]
    W: np.ndarray  # (features, classes)
    b: np.ndarray  # (classes,)
    classes: tuple[str, ...]
    threshold: float  # P(not clean) at or above which a clause is flagged
    kind: str


class Flagger:
    """Per language folder ("zh", "en"): P(negative) and the likeliest family of one clause."""

    def __init__(self, heads: dict[str, _Head]) -> None:
        self.heads = heads
        self.score = lru_cache(maxsize=8192)(self._score)  # the agent retypes the same clauses

    @classmethod
    def load(cls, path: Path | None = None) -> Flagger | None:
        """The shipped model (None when there is none)."""
        if path is None:
            res = resources.files("assist.rewrite").joinpath("data", MODEL_FILE)
            if not res.is_file():
                return None
            with resources.as_file(res) as p:
                return cls._read(p)
        return cls._read(path) if path.is_file() else None

    @classmethod
    def _read(cls, path: Path) -> Flagger:
        heads: dict[str, _Head] = {}
        with np.load(path, allow_pickle=False) as z:
            names = [str(x) for x in z["langs"]]
            for name in names:
                vocab = [str(x) for x in z[f"{name}_vocab"]]
                heads[name] = _Head(
                    {f: i for i, f in enumerate(vocab)},
                    z[f"{name}_W"].astype(np.float32),
                    z[f"{name}_b"].astype(np.float32),
                    tuple(str(x) for x in z[f"{name}_classes"]),
                    float(z[f"{name}_threshold"]),
                    str(z[f"{name}_kind"]),
                )
        return cls(heads)

    def has(self, name: str) -> bool:
        return name in self.heads

    def _score(self, name: str, clause: str) -> tuple[float, str]:
        """(P(not clean), likeliest family) of one clause for the language folder `name`."""
        h = self.heads[name]
        idx = [i for f in features(clause, h.kind) if (i := h.index.get(f)) is not None]
        z = h.b + h.W[idx].sum(axis=0) if idx else h.b.copy()
        z = z - z.max()
        e = np.exp(z)
        p = e / e.sum()
        clean = h.classes.index(CLEAN)
        neg = 1.0 - float(p[clean])
        p[clean] = -1.0
        return neg, h.classes[int(p.argmax())]

    def flag(self, name: str, clause: str) -> str | None:
        """The family when the clause reads as negative phrasing (P ≥ the chosen threshold), else None."""
        p, fam = self.score(name, clause)
        return fam if p >= self.heads[name].threshold else None
