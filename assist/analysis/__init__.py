"""Customer analysis: message emotion and cues, conversation state, customer profile, strategy hints."""

from __future__ import annotations

from assist.analysis.analyzer import Analyzer as Analyzer
from assist.analysis.analyzer import analyze_message as analyze_message
from assist.analysis.conversation import Analysis as Analysis
from assist.analysis.conversation import Conversation as Conversation
from assist.analysis.loader import AnalysisDataInvalid as AnalysisDataInvalid
