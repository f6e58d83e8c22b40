"""``StreamReader``: one ``XREAD BLOCK`` loop per topic, shared by its subscriptions.

The reader remembers the id of the last entry it read and asks for the ones after it, so a
dropped connection loses nothing the stream still has: it reconnects with exponential backoff and
carries on from there (after a restart that lost the data, the new stream's ids are later ones,
made from the server's clock). Each subscription also remembers the head it subscribed at and
gets only entries after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from tbone.channel import Message, QueueSubscription

from ._errors import DRIVER_ERRORS, safe_url
from ._streamkeys import Position, parse_id

__all__ = ["StreamReader", "StreamSubscription"]

log = logging.getLogger("tbone_redis")

#: ``xread(streams, count, block)`` of the reader's own client
ReadFn = Callable[[dict[str, str], int, int], Awaitable[Any]]
CloseFn = Callable[[], Awaitable[None]]


class StreamSubscription(QueueSubscription):
    """A subscription of one topic, fed by that topic's reader."""

    def __init__(self, reader: StreamReader, after: tuple[int, int]) -> None:
        super().__init__()
        self.reader = reader
        self.after = after

    async def detach(self) -> None:
        await self.reader.discard(self)


class StreamReader:
    """Reads one topic's stream from ``start`` on and delivers each entry to the subscribers."""

    def __init__(
        self,
        read: ReadFn,
        close: CloseFn,
        key: str,
        start: str,
        *,
        url: str,
        block_ms: int = 2000,
        batch: int = 1000,
        backoff: tuple[float, float] = (0.05, 2.0),
    ) -> None:
        self._read = read
        self._close = close
        self._stopped = False
        self.key = key
        self.last = start
        self.subscribers: set[StreamSubscription] = set()
        self._url = url
        self._block_ms = block_ms
        self._batch = batch
        self._backoff = backoff
        self._task: asyncio.Task[None] | None = None
        self.on_empty: Callable[[StreamReader], None] = lambda reader: None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"tbone-redis stream {self.key}")

    def add(self, subscription: StreamSubscription) -> None:
        self.subscribers.add(subscription)

    async def discard(self, subscription: StreamSubscription) -> None:
        """Stop feeding ``subscription``; the last one to leave stops the reader."""
        self.subscribers.discard(subscription)
        if not self.subscribers:
            self.on_empty(self)
            await self.aclose()

    async def aclose(self) -> None:
        """Stop reading and close the reader's client; idempotent."""
        # redis-py (8.1) can turn a cancellation during a blocking read into an empty reply, so
        # the loop also checks a flag; and the reader has a client of its own, so that a reply
        # left unread on its connection can never reach another command.
        self._stopped = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await self._close()  # ends a blocking read whose cancellation was swallowed
            with contextlib.suppress(asyncio.CancelledError, *DRIVER_ERRORS):
                await task
            await self._close()  # and what a cluster client reopened meanwhile

    async def _run(self) -> None:
        low, high = self._backoff
        delay, failing = low, False
        while not self._stopped:
            try:
                reply = await self._read({self.key: self.last}, self._batch, self._block_ms)
            except DRIVER_ERRORS as exc:
                log.log(
                    logging.DEBUG if failing else logging.WARNING,
                    "redis stream %s on %s: read failed (%s); retrying in %.2f s",
                    self.key,
                    safe_url(self._url),
                    exc,
                    delay,
                )
                await asyncio.sleep(delay * random.uniform(1.0, 1.25))
                delay, failing = min(delay * 2, high), True
                continue
            if failing:
                log.info("redis stream %s on %s: reading again", self.key, safe_url(self._url))
            delay, failing = low, False
            self._deliver(reply)

    def _deliver(self, reply: Any) -> None:
        # RESP2 (the channel's clients speak it): [[key, [(id, fields), ...]]], or None.
        for _key, entries in reply or ():
            for entry_id, fields in entries:
                self.last = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                position = parse_id(entry_id)
                message = Message(fields[b"d"], Position.of(fields[b"e"], fields[b"n"], entry_id))
                for subscriber in list(self.subscribers):
                    if position > subscriber.after:
                        subscriber.deliver(message)
