"""``redis://`` / ``rediss://``: the Redis pub/sub channel (events shared by many processes)."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from tbone.channel import Channel, QueueSubscription, Subscription
from tbone.errors import ChannelUnavailable

from ._errors import channel_errors, safe_url
from ._pubsub import PubSubHub

__all__ = ["RedisChannel"]


class _RedisSubscription(QueueSubscription):
    def __init__(self, channel: RedisChannel, topic: bytes) -> None:
        super().__init__()
        self._channel = channel
        self.topic = topic

    async def detach(self) -> None:
        await self._channel._unsubscribe(self)


class RedisChannel(Channel):
    """Moves event messages between processes through Redis pub/sub, at most once.

    >>> channel = RedisChannel("redis://localhost:6379/0")
    >>> async with channel:  # doctest: +SKIP
    ...     sub = await channel.subscribe("books")
    ...     await channel.publish("books", b'{"event": "created"}')
    ...     await sub.get()
    b'{"event": "created"}'

    All subscriptions of one channel object share one pub/sub connection; publishing uses a
    separate connection pool. After the server drops the connection the channel reconnects on
    its own, with exponential backoff, and re-subscribes every topic that has a subscriber;
    messages published during the outage are lost (the at-most-once contract of every channel).

    Pub/sub ignores the database number in the URL: every client of one Redis server shares
    the topic namespace. ``prefix`` (prepended to every topic) separates APIs sharing a server.
    """

    tbone_plugin_api = 1

    def __init__(
        self,
        url: str = "redis://localhost:6379/0",
        *,
        prefix: str = "",
        subscribe_timeout: float = 10.0,
        backoff: tuple[float, float] = (0.05, 2.0),
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.subscribe_timeout = subscribe_timeout
        self.backoff = backoff
        self._client: Redis | None = None
        self._hub: PubSubHub | None = None
        self._subscriptions: set[_RedisSubscription] = set()
        self._open_lock = asyncio.Lock()

    async def open(self) -> None:
        """Connect (and check the server answers); called by ``async with`` or on first use."""
        self._check_open()
        async with self._open_lock:
            if self._client is None:
                client = await self._connect()
                self._hub = PubSubHub(self._pubsub_connection, self.url, self.backoff)
                self._client = client
                self._hub.start()

    async def publish(self, topic: str, message: bytes) -> None:
        client = await self._ready()
        with channel_errors(self.url, f"publish on {topic!r}"):
            await client.publish(self._key(topic), bytes(message))

    async def subscribe(self, topic: str) -> Subscription:
        await self._ready()
        assert self._hub is not None  # set by open()
        subscription = _RedisSubscription(self, self._key(topic))
        self._subscriptions.add(subscription)
        try:
            async with asyncio.timeout(self.subscribe_timeout):
                await self._hub.add(subscription.topic, subscription.queue)
        except TimeoutError:
            self._subscriptions.discard(subscription)
            raise ChannelUnavailable(
                f"redis channel {safe_url(self.url)}: could not subscribe to {topic!r} within "
                f"{self.subscribe_timeout:g} s. Check that redis-server is running and reachable."
            ) from None
        except BaseException:
            self._subscriptions.discard(subscription)
            raise
        return subscription

    async def aclose(self) -> None:
        """End every subscription, stop the reader and close the connections; idempotent."""
        if self.closed:
            return
        await super().aclose()
        hub, self._hub = self._hub, None
        client, self._client = self._client, None
        for subscription in list(self._subscriptions):
            await subscription.aclose()
        try:
            if hub is not None:
                await hub.aclose()
        finally:
            if client is not None:
                await client.aclose()

    async def _unsubscribe(self, subscription: _RedisSubscription) -> None:
        self._subscriptions.discard(subscription)
        if self._hub is not None:
            await self._hub.discard(subscription.topic, subscription.queue)

    async def _ready(self) -> Redis:
        self._check_open()
        if self._client is None:
            await self.open()
        assert self._client is not None  # set by open()
        return self._client

    async def _connect(self) -> Redis:
        with channel_errors(self.url, "parse the URL"):
            client = Redis.from_url(self.url)
        try:
            with channel_errors(self.url, "connect"):
                await client.ping()
        except BaseException:
            await client.aclose()
            raise
        return client

    def _key(self, topic: str) -> bytes:
        return (self.prefix + topic).encode()

    def _pubsub_connection(self) -> AbstractConnection:
        assert self._client is not None  # the hub runs only while the channel is open
        pool = self._client.connection_pool
        options: dict[str, Any] = {
            "socket_connect_timeout": 5.0,
            **pool.connection_kwargs,
            # The reader blocks on this connection for as long as no message comes: no read
            # timeout, no health-check PING interleaved with its reads, RESP2 replies, and no
            # driver-level retry (the hub reconnects with its own backoff).
            "socket_timeout": None,
            "socket_keepalive": True,
            "health_check_interval": 0,
            "protocol": 2,
            "retry": Retry(NoBackoff(), 0),
        }
        if "maint_notifications_config" in options:
            # redis-py >= 7 attaches cluster-maintenance notifications, which need RESP3.
            options["maint_notifications_config"] = None
        connection: AbstractConnection = pool.connection_class(**options)
        return connection

    def _check_open(self) -> None:
        if self.closed:
            raise ChannelUnavailable(f"the redis channel {safe_url(self.url)} is closed")
