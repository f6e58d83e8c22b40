"""``Channel``: moves event messages between the processes serving one API.

A channel carries opaque ``bytes`` on named topics, at most once, in publish order per
publisher. Two methods are required::

    class MyChannel(Channel):
        tbone_plugin_api = 1

        async def publish(self, topic, message): ...
        async def subscribe(self, topic) -> Subscription: ...

A channel that talks to a broker reconnects on its own after the broker drops it; messages
published while it was away may be lost (subscribers resume with later ones). Channels raise
:class:`tbone.errors.ChannelUnavailable` once closed.

Channels **with history** (``memory://``, Redis Streams, ``sqlite://``) also give every message
a position, ``seq``, ordered per topic across publishers, and keep a bounded past: a
subscription's :meth:`Subscription.next` yields :class:`Message` with its ``seq``, and
:meth:`Channel.since` returns the messages after a position, or ``None`` when the history no
longer reaches back that far (then the hub tells clients to ``resync``). Channels without it
need not do anything: ``next()`` wraps ``get()`` and ``since()`` answers ``None``.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import Any, ClassVar, Self

import attrs

from ..lifecycle import Lifecycle

__all__ = ["Channel", "Message", "QueueSubscription", "Subscription"]


@attrs.frozen
class Message:
    """One message of a topic and, on channels with history, its position (``seq``).

    A message published as a value (:meth:`Channel.publish_value`) on a channel that keeps it
    in this process carries the value itself in ``value`` (and in ``data`` its encoding, or no
    bytes: the memory channel encodes only what its history keeps). A replay from a history
    carries bytes only.
    """

    data: bytes
    seq: str | None = None
    value: Any = attrs.field(default=None, eq=False, repr=False)


class Subscription(ABC):
    """Messages of one topic, in order, as an async iterator; ``aclose()`` to stop."""

    @abstractmethod
    async def get(self) -> bytes:
        """The next message, waiting for it; ``ChannelUnavailable`` once closed."""

    @abstractmethod
    async def aclose(self) -> None:
        """Stop receiving; idempotent."""

    async def next(self) -> Message:
        """The next message with its position; channels with history override this."""
        return Message(await self.get())

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> bytes:
        from ..errors import ChannelUnavailable

        try:
            return await self.get()
        except ChannelUnavailable:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class QueueSubscription(Subscription):
    """A subscription fed through an asyncio queue: the channel calls :meth:`deliver` (or puts
    on :attr:`queue`) and implements :meth:`detach` to stop feeding it."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes | Message | None] = asyncio.Queue()
        self.closed = False
        #: set by a consumer that can take a message as it is delivered, while nothing is
        #: queued: it returns True when it took the message, which then skips the queue
        #: (and the consumer's task a wake-up); False queues it as usual
        self.take_now: Callable[[Message], bool] | None = None

    def deliver(self, message: bytes | Message) -> None:
        take = self.take_now
        queued = self.queue.qsize()
        if take is not None and not queued and type(message) is Message and take(message):
            return
        self.queue.put_nowait(message)

    async def get(self) -> bytes:
        return (await self.next()).data

    async def next(self) -> Message:
        from ..errors import ChannelUnavailable

        if self.closed:
            raise ChannelUnavailable("this subscription is closed")
        message = await self.queue.get()
        if message is None:
            raise ChannelUnavailable("this subscription is closed")
        return message if isinstance(message, Message) else Message(message)

    async def aclose(self) -> None:
        if not self.closed:
            self.closed = True
            await self.detach()
            self.queue.put_nowait(None)  # wake a waiting get()

    async def detach(self) -> None:
        """Stop the channel feeding this subscription (called once, by ``aclose``)."""


class Channel(Lifecycle, ABC):
    """Base class of channels: two required methods and the async lifecycle."""

    closed: bool = False
    #: True when every subscriber lives in this process (lets the hub skip unheard events)
    in_process: ClassVar[bool] = False
    #: True when past messages can be replayed (:meth:`since`): every event is then
    #: published, heard or not, so that clients who come back can resume
    keeps_history: bool = False

    @abstractmethod
    async def publish(self, topic: str, message: bytes) -> None:
        """Send ``message`` to every current subscriber of ``topic`` (in every process)."""

    async def publish_value(self, topic: str, value: Any, encode: Callable[[Any], bytes]) -> None:
        """Publish a value: ``encode(value)``'s bytes, on channels that leave the process.

        In-process channels override this to hand ``value`` itself to subscribers (as
        :attr:`Message.value`), with no encoding on the way out nor decoding on the way in.
        """
        await self.publish(topic, encode(value))

    @abstractmethod
    async def subscribe(self, topic: str) -> Subscription:
        """Start receiving ``topic``; messages published after this returns are delivered."""

    async def head(self, topic: str) -> str | None:
        """The position of the latest message of ``topic`` (one before the first, for a topic
        with none yet), on channels with history; ``None`` on others."""
        return None

    async def since(self, topic: str, seq: str) -> list[Message] | None:
        """The messages of ``topic`` after position ``seq``, oldest first; ``None`` when the
        history does not reach back to it (or ``seq`` is not one of this channel's)."""
        return None

    async def open(self) -> None:
        """Connect; called by ``async with channel``."""

    async def aclose(self) -> None:
        """Disconnect; afterwards publish/subscribe raise ``ChannelUnavailable``."""
        self.closed = True

    @classmethod
    def from_url(cls, url: str) -> Self:
        """Build a channel from its URL (``tbone.channel.connect_channel`` calls this)."""
        return cls(url)  # type: ignore[call-arg]  # channels taking a URL accept it here
