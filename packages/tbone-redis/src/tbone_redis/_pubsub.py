"""``PubSubHub``: one Redis pub/sub connection shared by every subscription of a channel.

A reader task owns the connection. It dispatches ``message`` replies to the queues subscribed to
that topic, and, whenever the connection drops, reconnects with exponential backoff and
re-SUBSCRIBEs every topic that still has a subscriber. Topics are reference-counted: the first
queue of a topic sends SUBSCRIBE, the last one to leave sends UNSUBSCRIBE.

Replies to SUBSCRIBE arrive in the order the commands were sent, one per topic, so each topic
keeps a FIFO of *batches* (one per SUBSCRIBE sent, each a list of the futures of the callers
waiting for it); a ``subscribe`` reply resolves the oldest batch of its topic. That is what lets
``add()`` return only once the server really delivers the topic to this connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio.connection import AbstractConnection

from tbone.errors import ChannelUnavailable

from ._errors import DRIVER_ERRORS, safe_url

__all__ = ["PubSubHub"]

log = logging.getLogger("tbone_redis")

Batch = list["asyncio.Future[None]"]


class PubSubHub:
    """The shared pub/sub connection of one ``RedisChannel`` and its reader task."""

    def __init__(
        self,
        make_connection: Callable[[], AbstractConnection],
        url: str,
        backoff: tuple[float, float] = (0.05, 2.0),
    ) -> None:
        self._make_connection = make_connection
        self._url = url
        self._backoff = backoff
        self._topics: dict[bytes, set[asyncio.Queue[Any]]] = {}
        self._waiting: dict[bytes, deque[Batch]] = {}
        self._conn: AbstractConnection | None = None  # set while connected and subscribed
        self._write_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._reconnecting = False

    @property
    def connected(self) -> bool:
        return self._conn is not None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"tbone-redis reader {self._url}")

    async def add(self, topic: bytes, queue: asyncio.Queue[Any]) -> None:
        """Deliver ``topic`` to ``queue``; returns once the server confirms the subscription.

        Waits for as long as the server is away (the caller bounds it with ``asyncio.timeout``);
        cancelled, it takes ``queue`` back out.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queues = self._topics.get(topic)
        if queues is not None:
            queues.add(queue)
            batches = self._waiting.get(topic)
            if not batches:
                return  # the topic is already subscribed on the live connection
            batches[-1].append(future)  # wait for the SUBSCRIBE already on its way
        else:
            self._topics[topic] = {queue}
            self._waiting.setdefault(topic, deque()).append([future])
            if self._conn is not None:  # else the reader subscribes it when it reconnects
                await self._send(b"SUBSCRIBE", topic)
        try:
            await future
        except BaseException:
            await self.discard(topic, queue)
            raise

    async def discard(self, topic: bytes, queue: asyncio.Queue[Any]) -> None:
        """Stop delivering ``topic`` to ``queue``; UNSUBSCRIBE once no queue is left."""
        queues = self._topics.get(topic)
        if queues is None or queue not in queues:
            return
        queues.discard(queue)
        if not queues:
            del self._topics[topic]
            if self._conn is not None:
                await self._send(b"UNSUBSCRIBE", topic)

    async def aclose(self) -> None:
        """Stop the reader and drop the connection; waiting ``add()`` calls raise."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for batches in self._waiting.values():
            for future in (f for batch in batches for f in batch if not f.done()):
                future.set_exception(ChannelUnavailable("the redis channel was closed"))
        self._topics.clear()
        self._waiting.clear()

    async def _send(self, *args: bytes) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            async with self._write_lock:
                await conn.send_command(*args)
        except DRIVER_ERRORS as exc:  # the reader sees the broken connection and reconnects
            log.debug("redis pub/sub %s: %s failed: %s", safe_url(self._url), args[0], exc)

    async def _run(self) -> None:
        low, high = self._backoff
        delay = low
        while True:
            try:
                await self._serve_connection()
            except DRIVER_ERRORS as exc:
                # Warn once per outage; the attempts after it are debug noise.
                log.log(
                    logging.DEBUG if self._reconnecting else logging.WARNING,
                    "redis pub/sub %s: connection lost (%s); reconnecting in %.2f s",
                    safe_url(self._url),
                    exc,
                    delay,
                )
            except Exception:  # a bug must not end delivery for good: log it and reconnect
                log.exception("redis pub/sub %s: unexpected error", safe_url(self._url))
            await asyncio.sleep(delay * random.uniform(1.0, 1.25))  # jitter spreads workers
            delay = min(delay * 2, high)
            self._reconnecting = True

    async def _serve_connection(self) -> None:
        conn = self._make_connection()
        # redis-py leaves connect() unannotated in some versions; name its type once here.
        connect: Callable[[], Awaitable[None]] = conn.connect
        try:
            await connect()
            await self._resubscribe(conn)
            if self._reconnecting:
                log.info("redis pub/sub %s: reconnected", safe_url(self._url))
                self._reconnecting = False
            while True:
                self._dispatch(await conn.read_response(disable_decoding=True))
        finally:
            self._conn = None
            await conn.disconnect(nowait=True)

    async def _resubscribe(self, conn: AbstractConnection) -> None:
        # No await between taking the snapshot and publishing the connection: a topic added
        # afterwards sends its own SUBSCRIBE on it.
        topics = list(self._topics)
        self._waiting = {
            topic: deque([[f for batch in self._waiting.get(topic, ()) for f in batch]])
            for topic in topics
        }
        self._conn = conn
        if topics:
            await self._send(b"SUBSCRIBE", *topics)

    def _dispatch(self, reply: Any) -> None:
        if not isinstance(reply, list) or len(reply) < 3:
            return
        kind, topic = reply[0], reply[1]
        if kind == b"message":
            for queue in self._topics.get(topic, ()):
                queue.put_nowait(reply[2])
        elif kind == b"subscribe":
            batches = self._waiting.get(topic)
            if not batches:
                return
            for future in batches.popleft():
                if not future.done():
                    future.set_result(None)
            if not batches:
                del self._waiting[topic]
