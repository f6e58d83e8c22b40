"""``memory://``: the in-process channel (one process serving the API)."""

from __future__ import annotations

from ..errors import ChannelUnavailable
from .base import Channel, QueueSubscription, Subscription

__all__ = ["MemoryChannel"]


class _MemorySubscription(QueueSubscription):
    def __init__(self, channel: MemoryChannel, topic: str) -> None:
        super().__init__()
        self._channel = channel
        self._topic = topic

    async def detach(self) -> None:
        self._channel._subscribers.get(self._topic, set()).discard(self)


class MemoryChannel(Channel):
    """Delivers messages to subscribers in this process, in publish order."""

    tbone_plugin_api = 1
    in_process = True

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._subscribers: dict[str, set[_MemorySubscription]] = {}

    async def publish(self, topic: str, message: bytes) -> None:
        self._check_open()
        for subscriber in list(self._subscribers.get(topic, ())):
            subscriber.deliver(bytes(message))

    async def subscribe(self, topic: str) -> Subscription:
        self._check_open()
        subscription = _MemorySubscription(self, topic)
        self._subscribers.setdefault(topic, set()).add(subscription)
        return subscription

    async def aclose(self) -> None:
        await super().aclose()
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                await subscription.aclose()

    def _check_open(self) -> None:
        if self.closed:
            raise ChannelUnavailable("the memory channel is closed")
