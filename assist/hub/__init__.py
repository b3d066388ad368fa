"""The conversation hub and its parts: the registry of held conversations (registry.py), where their state lives
(store.py: memory or Redis, by URL), the per-message pipeline (pipeline.py), events on the broker (events.py),
the connections (connections.py), usage counting (usage.py) and each connection's outbox (outbox.py)."""

from assist.hub.hub import Hub, HubClosing
from assist.hub.outbox import DROPPABLE, Outbox
from assist.hub.registry import HeldConversation, HubBusy, Subscriber, UnknownConversation
from assist.hub.store import ConversationStore, MemoryConversations, RedisConversations, create_conversation_store

__all__ = [
    "DROPPABLE",
    "ConversationStore",
    "HeldConversation",
    "Hub",
    "HubBusy",
    "HubClosing",
    "MemoryConversations",
    "Outbox",
    "RedisConversations",
    "Subscriber",
    "UnknownConversation",
    "create_conversation_store",
]
