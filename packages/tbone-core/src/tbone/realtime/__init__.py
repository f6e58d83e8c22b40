"""Full duplex: the ``tbone.v1`` WebSocket protocol, live subscriptions and event fan-out."""

from .fallback import StreamLimits, Streams
from .frames import SUBPROTOCOL
from .hub import EventHub, LiveSubscription
from .limits import CloseCode, Limits
from .session import Session
from .sse import EventStream

__all__ = [
    "SUBPROTOCOL",
    "CloseCode",
    "EventHub",
    "EventStream",
    "Limits",
    "LiveSubscription",
    "Session",
    "StreamLimits",
    "Streams",
]
