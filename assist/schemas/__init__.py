"""The domain models of the per-message path (pydantic): a message in, its analysis, situations and
suggestions out, a rewritten draft, a phrase as the bank gives it. Language codes are plain strings."""

from assist.schemas.analysis import Analysis, Cue, Emotion, Hint, ProfileDimension, ProfileEvidence, TrajectoryPoint
from assist.schemas.conversation import ConversationOut, ConversationState, FeedResult
from assist.schemas.message import Message, Role
from assist.schemas.phrase import PhraseRecord
from assist.schemas.rewrite import Change, Flag, RewriteResult
from assist.schemas.suggestion import Reasons, Situation, Span, Suggestion, SuggestResult

__all__ = [
    "Analysis",
    "Change",
    "ConversationOut",
    "ConversationState",
    "Cue",
    "Emotion",
    "FeedResult",
    "Flag",
    "Hint",
    "Message",
    "PhraseRecord",
    "ProfileDimension",
    "ProfileEvidence",
    "Reasons",
    "RewriteResult",
    "Role",
    "Situation",
    "Span",
    "SuggestResult",
    "Suggestion",
    "TrajectoryPoint",
]
