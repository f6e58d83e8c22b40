"""Channels: event fan-out between the processes serving one API."""

from __future__ import annotations

from .base import Channel, Message, QueueSubscription, Subscription
from .memory import MemoryChannel

__all__ = [
    "Channel",
    "MemoryChannel",
    "Message",
    "QueueSubscription",
    "Subscription",
    "connect_channel",
]


def connect_channel(url_or_channel: str | Channel) -> Channel:
    """The channel for ``url_or_channel``: a URL's scheme names the channel plugin."""
    from .. import plugins

    if isinstance(url_or_channel, Channel):
        return url_or_channel
    cls = plugins.load("channel", plugins.scheme_of(url_or_channel))
    channel = cls.from_url(url_or_channel)
    if not isinstance(channel, Channel):
        raise TypeError(
            f"{cls!r}.from_url() returned {type(channel).__name__}, not a tbone Channel"
        )
    return channel
