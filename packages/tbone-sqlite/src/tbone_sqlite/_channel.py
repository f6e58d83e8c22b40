"""``SQLiteChannel``: live events between the processes sharing one SQLite file, with history.

``sqlite:///books.db?history=10000&history_age=300&poll=0.05`` — ``publish`` inserts a row in
the file's ``tbone_channel`` table (see ``_eventlog``); each channel object polls it for rows
newer than the last it saw, one task per subscribed topic, every ``poll`` seconds, and wakes at
once for its own publishes, so that one process has no polling latency and several (the demo
and ``tbone serve``) share events with no server at all. Positions are ``<epoch>.<id>``.

The history (what :meth:`SQLiteChannel.since` replays) is the newest ``history`` messages of a
topic no younger than ``history_age`` seconds, exactly. Rows are trimmed every ``trim_every``
publishes, keeping at least 1,000 rows and 10 seconds per topic even when the history is smaller,
so that a poller of another process that is briefly behind still finds them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from typing import Final

from tbone.channel import Channel, Message, QueueSubscription, Subscription
from tbone.errors import ChannelUnavailable

from ._eventlog import EventLog
from ._url import number, split_url

__all__ = ["SQLiteChannel"]

log = logging.getLogger("tbone_sqlite.channel")

_OPTIONS: Final = ("history", "history_age", "history_bytes", "poll", "timeout")
_BATCH: Final = 500  # rows a poller reads per query
_KEEP_ROWS: Final = 1_000  # rows kept per topic for other processes' pollers, history or not
_KEEP_AGE: Final = 10.0  # seconds likewise
_MAX_DIGITS: Final = 19  # ids are SQLite integers (64 bits)


class _Subscription(QueueSubscription):
    """Fed by its topic's poller with the rows after ``start`` (the sequence at subscribe)."""

    def __init__(self, poller: _Poller, start: int) -> None:
        super().__init__()
        self.poller = poller
        self.start = start

    async def detach(self) -> None:
        await self.poller.remove(self)


class _Poller:
    """Reads one topic's new rows and hands them to the topic's subscriptions in this object."""

    def __init__(self, channel: SQLiteChannel, topic: str, after: int) -> None:
        self.channel = channel
        self.topic = topic
        self.after = after
        self.subscriptions: set[_Subscription] = set()
        self.wake = asyncio.Event()
        self.task = asyncio.create_task(self._run(), name=f"tbone sqlite channel {topic!r}")

    async def remove(self, subscription: _Subscription) -> None:
        self.subscriptions.discard(subscription)
        if not self.subscriptions and self.channel._pollers.get(self.topic) is self:
            del self.channel._pollers[self.topic]
            await self.stop()

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the cancel of stop()
            # when the wake-up and the cancel come together, and the task would run on
            with contextlib.suppress(TimeoutError):  # a poll: look for other processes' rows
                async with asyncio.timeout(self.channel.poll):
                    await self.wake.wait()
            self.wake.clear()
            try:
                await self._read()
            except sqlite3.Error:  # a locked or vanished file: say so and try again next time
                log.warning("could not read channel %r from %s", self.topic, self.channel.path)

    async def _read(self) -> None:
        events = self.channel._events
        if events is None:
            return
        while True:
            rows = await events.after(self.topic, self.after, _BATCH)
            for row_id, data in rows:
                message = Message(data, f"{events.epoch}.{row_id}")
                for subscription in list(self.subscriptions):
                    if row_id > subscription.start:
                        subscription.deliver(message)
                self.after = row_id
            if len(rows) < _BATCH:
                return


class SQLiteChannel(Channel):
    """Events shared by every process that opens the same SQLite file (``sqlite:///app.db``).

    >>> channel = SQLiteChannel("app.db", history=10_000, history_age=300, poll=0.05)

    ``history`` messages per topic no older than ``history_age`` seconds, ``history_bytes``
    in all, can be replayed (``history=0`` keeps none: resuming clients are told to resync);
    ``poll`` is how often, in seconds, other processes' messages are looked for; ``timeout`` how
    long a publish waits for another process's write lock before ``ChannelUnavailable``.
    """

    tbone_plugin_api = 1

    def __init__(
        self,
        path: str = ":memory:",
        *,
        history: int = 10_000,
        history_age: float = 300.0,
        history_bytes: int = 4 << 20,
        poll: float = 0.05,
        timeout: float = 5.0,
        trim_every: int = 100,
    ) -> None:
        if history < 0 or history_age < 0 or poll <= 0 or timeout < 0 or trim_every < 1:
            raise ValueError("history, history_age and timeout must be >= 0, poll > 0")
        self.path = path
        self.history = history
        self.history_age = history_age
        self.history_bytes = history_bytes
        self.poll = poll
        self.timeout = timeout
        self.trim_every = trim_every
        self.keeps_history = history > 0
        self._events: EventLog | None = None
        self._opening = asyncio.Lock()
        self._pollers: dict[str, _Poller] = {}
        self._published: dict[str, int] = {}  # per topic, for trimming

    @classmethod
    def from_url(cls, url: str) -> SQLiteChannel:
        path, query = split_url(url)
        unknown = sorted(set(query) - set(_OPTIONS))
        if unknown:
            names, allowed = ", ".join(unknown), ", ".join(_OPTIONS)
            raise ValueError(f"unknown option(s) {names} in {url!r}; allowed: {allowed}")
        options = {name: number(url, name, values) for name, values in query.items()}
        history = options.get("history", 10_000.0)
        if not history.is_integer():
            raise ValueError(f"history in {url!r} must be a whole number of messages")
        return cls(
            path,
            history=int(history),
            history_age=options.get("history_age", 300.0),
            history_bytes=int(options.get("history_bytes", 4 << 20)),
            poll=options.get("poll", 0.05),
            timeout=options.get("timeout", 5.0),
        )

    def __repr__(self) -> str:
        return f"<SQLiteChannel {self.path!r}>"

    # -- lifecycle -------------------------------------------------------------------------------

    async def open(self) -> None:
        await self._log()

    async def aclose(self) -> None:
        await super().aclose()
        pollers, self._pollers = list(self._pollers.values()), {}
        for poller in pollers:
            await poller.stop()
            for subscription in list(poller.subscriptions):
                await subscription.aclose()
        events, self._events = self._events, None
        if events is not None:
            await events.aclose()

    async def _log(self) -> EventLog:
        self._check_open()
        if self._events is None:
            async with self._opening:
                if self._events is None:
                    self._check_folder()
                    try:
                        self._events = await EventLog.open(self.path, busy=self.timeout)
                    except sqlite3.Error as exc:
                        raise self._unavailable(exc) from exc
        return self._events

    def _check_folder(self) -> None:
        # said before connecting: a failed aiosqlite connect leaves its thread to report to
        # the event loop later, which fails once the loop is gone
        folder = os.path.dirname(os.path.abspath(self.path))
        if self.path != ":memory:" and not os.path.isdir(folder):
            raise ChannelUnavailable(
                f"the SQLite channel cannot open {self.path!r}: the folder {folder!r} does not "
                "exist; create it or give another path"
            )

    def _unavailable(self, exc: sqlite3.Error) -> ChannelUnavailable:
        return ChannelUnavailable(f"the SQLite channel on {self.path!r} failed: {exc}")

    # -- messages --------------------------------------------------------------------------------

    async def publish(self, topic: str, message: bytes) -> None:
        events = await self._log()
        try:
            await events.append(topic, bytes(message))
            count = self._published[topic] = self._published.get(topic, 0) + 1
            if count % self.trim_every == 0:
                rows, age = max(self.history, _KEEP_ROWS), max(self.history_age, _KEEP_AGE)
                await events.trim(topic, rows, age)
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from exc
        poller = self._pollers.get(topic)
        if poller is not None:
            poller.wake.set()  # this process's subscribers get it without waiting for a poll

    async def subscribe(self, topic: str) -> Subscription:
        events = await self._log()
        try:
            start = await events.sequence()
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from exc
        self._check_open()
        poller = self._pollers.get(topic)
        if poller is None:
            poller = self._pollers[topic] = _Poller(self, topic, start)
        subscription = _Subscription(poller, start)
        poller.subscriptions.add(subscription)
        return subscription

    async def head(self, topic: str) -> str | None:
        if not self.keeps_history:
            return None
        events = await self._log()
        try:
            last = await events.last(topic) or await events.sequence()
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from exc
        return f"{events.epoch}.{last}"

    async def since(self, topic: str, seq: str) -> list[Message] | None:
        events = await self._log()
        epoch, _, digits = seq.partition(".")
        if not self.keeps_history or epoch != events.epoch:
            return None  # another file's position, or this path's before it was recreated
        if not digits.isdigit() or not digits.isascii() or len(digits) > _MAX_DIGITS:
            return None
        after = int(digits)
        try:
            if after > await events.sequence():
                return None  # a position this file never gave
            if after < await events.floor(topic, self.history, self.history_age):
                return None  # messages after it left the history
            count, size = await events.size_after(topic, after)
            if size > self.history_bytes and count > 1:
                return None  # a replay bigger than history_bytes: resync instead
            rows = await events.after(topic, after, self.history + _KEEP_ROWS)
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from exc
        return [Message(data, f"{events.epoch}.{row_id}") for row_id, data in rows]

    def _check_open(self) -> None:
        if self.closed:
            raise ChannelUnavailable(f"the SQLite channel on {self.path!r} is closed")
