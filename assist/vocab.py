"""The shared vocabulary of DESIGN.md §2: every component, the API and the phrase bank use these names."""

from __future__ import annotations

from typing import Any

EMOTIONS: tuple[str, ...] = (
    "anger",
    "frustration",
    "anxiety",
    "disappointment",
    "confusion",
    "satisfaction",
    "neutral",
)

CUE_KINDS: tuple[str, ...] = (
    "exclamation",
    "caps",
    "sigh",
    "insult",
    "threat",
    "escalation",
    "urgency",
    "sarcasm",
    "repetition",
    "burst",
    "silence",
)

# Customer profile: five dimensions (seed 001 单元二/三, seed 004 个人风格).
PROFILE: dict[str, tuple[str, ...]] = {
    "temperament": ("silent", "talkative", "amiable", "proud", "nitpicky"),
    "price_attitude": ("no_haggle", "tentative", "haggler"),
    "knowledge": ("novice", "partial", "expert"),
    "trust": ("trusting", "skeptical"),
    "social_style": ("analytical", "driver", "expressive", "amiable"),
}

# "dimension:label", the form phrases and filters use (temperament:amiable and social_style:amiable differ).
PROFILE_LABELS: tuple[str, ...] = tuple(f"{dim}:{label}" for dim, labels in PROFILE.items() for label in labels)

SITUATIONS: tuple[str, ...] = (
    "greeting",
    "delay",
    "delivery",
    "refund_return",
    "defect",
    "billing",
    "price",
    "account",
    "how_to",
    "complaint",
    "policy",
    "apology",
    "closing",
    "authenticity",
)

# Techniques taught by the seeds; the Chinese names are how the courseware says them.
TECHNIQUES: dict[str, str] = {
    "acknowledge": "认同",
    "praise": "赞美",
    "redirect": "转移",
    "reflective_question": "反问",
    "restate": "复述",
    "understand_and": "合一架构法（我理解……同时……）",
    "feedback_sandwich": "三明治反馈",
    "expectation_setting": "设定预期（具体时间）",
    "apology": "致歉",
    "proactive_follow_up": "主动跟进",
    "open_question": "开放式提问",
    "closed_question": "封闭式提问",
    "probing_question": "探询式提问",
}

PHRASE_STATUSES: tuple[str, ...] = ("draft", "approved", "retired")

ROLES: tuple[str, ...] = ("agent", "lead", "integration")


def __getattr__(name: str) -> Any:
    """`LANGS`: the registered language codes, asked of the registry (assist.languages); no list here."""
    if name == "LANGS":
        from assist.languages import codes

        return codes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
