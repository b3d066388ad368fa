"""What the rewriter returns: changes against the original draft, and flags."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Change:
    start: int  # offsets are Unicode code points into the original draft
    end: int
    before: str
    after: str
    rule: str
    why: str


@dataclass(frozen=True, slots=True)
class Flag:
    start: int
    end: int
    text: str
    rule: str
    why: str
    family: str | None = None  # refusal, blame, buck, command, impatience, denial, dont_know, vague_time, ...
    principle: str | None = None
    situation: str | None = None  # what the sentence is about (assist.vocab.SITUATIONS), for bank phrases


@dataclass(slots=True)
class RewriteResult:
    lang: str
    original: str
    rewritten: str
    changes: list[Change] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.rewritten != self.original

    def as_dict(self) -> dict[str, Any]:
        return {
            "lang": self.lang,
            "original": self.original,
            "rewritten": self.rewritten,
            "changed": self.changed,
            "changes": [asdict(c) for c in self.changes],
            "flags": [asdict(f) for f in self.flags],
        }
