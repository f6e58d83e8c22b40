"""``memory://``: the in-process channel (one process serving the API), with history.

Every message gets a position ``<epoch>.<n>`` (the epoch tells this channel's positions from
another's, or from before a restart) and the last ``history`` messages of each topic, no older
than ``history_age`` seconds and ``history_bytes`` in all, can be replayed:
``memory://?history=10000&history_age=300&history_bytes=4194304``.
"""

from __future__ import annotations

import collections
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..errors import ChannelUnavailable
from .base import Channel, Message, QueueSubscription, Subscription

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

    def __init__(
        self,
        url: str = "memory://",
        *,
        history: int | None = None,
        history_age: float | None = None,
        history_bytes: int | None = None,
    ) -> None:
        self.url = url
        options = dict(parse_qsl(urlsplit(url).query))
        self.history = int(options.get("history", 10_000)) if history is None else history
        self.history_age = (
            float(options.get("history_age", 300.0)) if history_age is None else history_age
        )
        self.history_bytes = (
            int(options.get("history_bytes", 4 << 20)) if history_bytes is None else history_bytes
        )
        self.keeps_history = self.history > 0
        self._kept_bytes: dict[str, int] = {}
        self._subscribers: dict[str, set[_MemorySubscription]] = {}
        self._epoch = secrets.token_hex(4)
        self._counts: dict[str, int] = {}  # per topic: positions are per topic
        # per topic: (monotonic time, number, message)
        self._past: dict[str, collections.deque[tuple[float, int, bytes]]] = {}

    async def publish(self, topic: str, message: bytes) -> None:
        self._check_open()
        self._send(topic, bytes(message), None)

    async def publish_value(self, topic: str, value: Any, encode: Callable[[Any], bytes]) -> None:
        """Hand ``value`` itself to subscribers: it never leaves the process, so it is neither
        encoded nor decoded on its way to them.

        The history keeps it encoded (``encode(value)``): bytes are exact for the byte bound,
        do not change if the object does, and hold nothing the garbage collector must walk
        (ten thousand kept envelopes and objects made every collection of a busy server
        slower). A replay decodes them, as it does a message from another process."""
        self._check_open()
        self._send(topic, encode(value) if self.keeps_history else b"", value)

    def _send(self, topic: str, data: bytes, value: Any) -> None:
        count = self._counts[topic] = self._counts.get(topic, 0) + 1
        if self.keeps_history:
            self._remember(topic, count, data)
        subscribers = self._subscribers.get(topic)
        if subscribers:
            item = Message(data, f"{self._epoch}.{count}", value)
            for subscriber in list(subscribers):
                subscriber.deliver(item)

    def _remember(self, topic: str, count: int, data: bytes) -> None:
        """Keep ``data`` in the topic's history, dropping the oldest beyond the count and
        byte bounds (the age bound applies when replaying)."""
        past = self._past.get(topic)
        if past is None:
            past = self._past[topic] = collections.deque()
        past.append((time.monotonic(), count, data))
        kept = self._kept_bytes.get(topic, 0) + len(data)
        while len(past) > self.history or (kept > self.history_bytes and len(past) > 1):
            kept -= len(past.popleft()[2])
        self._kept_bytes[topic] = kept

    async def head(self, topic: str) -> str | None:
        return f"{self._epoch}.{self._counts.get(topic, 0)}"

    async def since(self, topic: str, seq: str) -> list[Message] | None:
        self._check_open()
        epoch, _, number = seq.partition(".")
        if epoch != self._epoch or not number.isdigit():
            return None  # another channel's position, or this one's before a restart
        after, count = int(number), self._counts.get(topic, 0)
        if after > count:
            return None
        past = self._past.get(topic, collections.deque())
        oldest = time.monotonic() - self.history_age
        kept = [(n, data) for t, n, data in past if t >= oldest]
        first = kept[0][0] if kept else count + 1
        if after + 1 < first:
            return None  # messages after ``seq`` were dropped from the history
        return [Message(data, f"{self._epoch}.{n}") for n, data in kept if n > after]

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
