"""Draft rewriter: negative phrasing to positive, every change explained (rules are data per language)."""

from __future__ import annotations

from assist.rewrite.engine import Change, Flag, Rewriter, RewriteResult
from assist.rewrite.rules import Rule, RuleFileInvalid, RuleSet, UnknownLanguage, load_rules

__all__ = [
    "Change",
    "Flag",
    "RewriteResult",
    "Rewriter",
    "Rule",
    "RuleFileInvalid",
    "RuleSet",
    "UnknownLanguage",
    "load_rules",
]
