"""Full duplex: the ``tbone.v1`` WebSocket protocol, live subscriptions and event fan-out."""

from .frames import SUBPROTOCOL
from .hub import EventHub, LiveSubscription
from .limits import CloseCode, Limits
from .session import Session

__all__ = ["SUBPROTOCOL", "CloseCode", "EventHub", "Limits", "LiveSubscription", "Session"]
