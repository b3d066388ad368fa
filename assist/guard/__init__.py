"""The pre-send guard (禁语 / 敏感词 and 必达话术): forbidden expressions and must-say checks that team leads
manage, run on every draft with the rewriter (docs/rewrite.md, "Pre-send guard")."""

from assist.guard.engine import Guard, GuardHit
from assist.guard.fold import fold
from assist.guard.schema import GuardRuleIn
from assist.guard.store import GuardStore

__all__ = ["Guard", "GuardHit", "GuardRuleIn", "GuardStore", "fold"]
