"""``redis+streams://`` / ``rediss+streams://``: the Redis Streams channel, with history."""

from __future__ import annotations

import asyncio
import secrets
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from redis.commands.core import AsyncScript

from tbone.channel import Channel, Message, Subscription
from tbone.errors import ChannelUnavailable

from ._client import Client, connect, make_client
from ._errors import channel_errors, safe_url
from ._streamkeys import HEAD, PUBLISH, SINCE, Position, keys_of, parse_id
from ._streamreader import StreamReader, StreamSubscription

__all__ = ["RedisStreamsChannel"]

_OPTIONS = ("history", "history_age")


def driver_url(url: str) -> tuple[str, dict[str, str]]:
    """``url`` as redis-py reads it (plain scheme, without this channel's options) and the
    options taken out of it."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = {k: v for k, v in query if k in _OPTIONS}
    rest = urlencode([(k, v) for k, v in query if k not in _OPTIONS])
    scheme = parts.scheme.lower().removesuffix("+streams")
    return urlunsplit(parts._replace(scheme=scheme, query=rest)), options


class RedisStreamsChannel(Channel):
    """Moves event messages between processes through one Redis stream per topic, and keeps
    a bounded history that clients resume from.

    >>> channel = RedisStreamsChannel("redis+streams://localhost:6379/0?history=10000")
    >>> async with channel:  # doctest: +SKIP
    ...     sub = await channel.subscribe("books")
    ...     await channel.publish("books", b'{"event": "created"}')
    ...     (await sub.next()).seq
    '3f9c0a1b2c3d4e5f.1.1718000000000-0'

    ``publish`` is one ``XADD ... MAXLEN ~ history`` (plus an ``XTRIM MINID ~`` for the age
    bound) in a Lua script; each subscribed topic has one reader doing ``XREAD BLOCK``, shared
    by the subscriptions of this channel object. ``since`` answers from the stream, ``None``
    when it no longer reaches back (``history`` messages, ``history_age`` seconds) or when the
    position is not this topic's. A Redis Cluster is detected when the channel opens; every
    topic's keys share one hash slot.
    """

    tbone_plugin_api = 1
    keeps_history = True

    def __init__(
        self,
        url: str = "redis+streams://localhost:6379/0",
        *,
        prefix: str = "",
        history: int | None = None,
        history_age: float | None = None,
        block: float = 2.0,
        backoff: tuple[float, float] = (0.05, 2.0),
    ) -> None:
        self.url = url
        self._driver_url, options = driver_url(url)
        self.prefix = prefix
        self.history = int(options.get("history", 10_000)) if history is None else history
        self.history_age = (
            float(options.get("history_age", 300.0)) if history_age is None else history_age
        )
        if self.history < 1 or self.history_age <= 0:
            raise ValueError(
                f"redis streams channel {safe_url(url)}: history must be >= 1 and history_age "
                "> 0 (for a channel without history use redis://, the pub/sub channel)"
            )
        self.block = block
        self.backoff = backoff
        self.cluster = False
        self._client: Client | None = None
        self._scripts: dict[str, AsyncScript] = {}
        self._readers: dict[str, StreamReader] = {}
        self._open_lock = asyncio.Lock()

    async def open(self) -> None:
        """Connect (and tell a Cluster from a single server); called by ``async with``."""
        self._check_open()
        async with self._open_lock:
            if self._client is None:
                client = await self._connect()
                self._scripts = {
                    name: client.register_script(text)
                    for name, text in (("publish", PUBLISH), ("head", HEAD), ("since", SINCE))
                }
                self._client = client

    async def publish(self, topic: str, message: bytes) -> None:
        age_ms = round(self.history_age * 1000)
        args = [secrets.token_hex(8), bytes(message), self.history, age_ms]
        await self._run("publish", topic, args, f"publish on {topic!r}")

    async def head(self, topic: str) -> str | None:
        epoch, number, last = await self._run(
            "head", topic, [secrets.token_hex(8)], f"read the head of {topic!r}"
        )
        return Position.of(epoch, number, last)

    async def since(self, topic: str, seq: str) -> list[Message] | None:
        position = Position.parse(seq)
        if position is None:
            await self._ready()  # a closed channel still says so
            return None
        reply = await self._run(
            "since", topic, [position.epoch, position.stream_id], f"read the history of {topic!r}"
        )
        if not reply[0]:
            return None  # another epoch: the data this position belongs to is gone
        _, count, now_ms, entries = reply
        return self._covered(position, int(count), int(now_ms), entries)

    async def subscribe(self, topic: str) -> Subscription:
        await self._ready()
        head = Position.parse(await self.head(topic) or "")
        assert head is not None  # head() always answers this channel's form
        reader = self._readers.get(topic)
        if reader is None:
            reader = self._readers[topic] = self._reader(topic, head.stream_id)
            reader.start()
        subscription = StreamSubscription(reader, head.id)
        reader.add(subscription)
        return subscription

    async def aclose(self) -> None:
        """End every subscription, stop the readers and close the connections; idempotent."""
        if self.closed:
            return
        await super().aclose()
        readers, self._readers = list(self._readers.values()), {}
        client, self._client = self._client, None
        try:
            for reader in readers:
                await reader.aclose()
                for subscription in list(reader.subscribers):
                    await subscription.aclose()
        finally:
            if client is not None:
                await client.aclose()

    def _covered(
        self, after: Position, count: int, now_ms: int, entries: list[Any]
    ) -> list[Message] | None:
        if after.number > count:
            return None  # a position this topic has not reached: not one of ours
        if after.number == count:
            return []
        # A script's XRANGE reply has each entry's fields as a flat [name, value, ...] list.
        kept = [(i, dict(zip(f[::2], f[1::2], strict=True))) for i, f in entries]
        messages = [Message(f[b"d"], Position.of(f[b"e"], f[b"n"], i)) for i, f in kept]
        first_id, first = kept[0] if kept else (b"0-0", {b"n": b"0"})
        if int(first[b"n"]) != after.number + 1:
            return None  # the messages right after ``after`` were trimmed away
        if parse_id(first_id)[0] < now_ms - self.history_age * 1000:
            return None  # older than the age bound (trimming is approximate; this is not)
        return messages

    def _reader(self, topic: str, start: str) -> StreamReader:
        client = self._make_client()

        async def read(streams: dict[str, str], count: int, block: int) -> Any:
            return await client.xread(streams, count=count, block=block)  # type: ignore[arg-type]  # redis-py types stream ids as its own KeyT/StreamIdT

        reader = StreamReader(
            read,
            client.aclose,
            keys_of(self.prefix, topic)[0],
            start,
            url=self.url,
            block_ms=round(self.block * 1000),
            backoff=self.backoff,
        )
        reader.on_empty = lambda stopped: self._forget(topic, stopped)
        return reader

    def _forget(self, topic: str, reader: StreamReader) -> None:
        if self._readers.get(topic) is reader:
            del self._readers[topic]

    async def _run(self, script: str, topic: str, args: list[Any], doing: str) -> Any:
        client = await self._ready()
        with channel_errors(self.url, doing):
            return await self._scripts[script](
                keys=list(keys_of(self.prefix, topic)), args=args, client=client
            )

    async def _ready(self) -> Client:
        self._check_open()
        if self._client is None:
            await self.open()
        assert self._client is not None  # set by open()
        return self._client

    def _make_client(self) -> Client:
        return make_client(self._driver_url, self.cluster, protocol=2)  # readers parse RESP2

    async def _connect(self) -> Client:
        def errors(_: str, doing: str) -> AbstractContextManager[None]:
            return channel_errors(self.url, doing)  # the URL as given, +streams and options

        client, self.cluster = await connect(self._driver_url, errors, protocol=2)
        return client

    def _check_open(self) -> None:
        if self.closed:
            raise ChannelUnavailable(f"the redis streams channel {safe_url(self.url)} is closed")
