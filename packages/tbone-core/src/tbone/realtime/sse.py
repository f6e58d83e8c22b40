"""``EventStream``: one Server-Sent Events response carrying ``tbone.v1`` frames to a client.

Each frame is one SSE event, its ``data:`` the frame's JSON text; an event frame also gets
``id:`` = its ``seq``, so a client's ``Last-Event-ID`` names the last position it saw. Comment
lines keep an idle stream open through proxies (and reveal a client that has gone).

A transport starts the response with :attr:`EventStream.status` and :attr:`headers` and hands
the stream its writer; the stream owns the loop (the same in every adapter)::

    clean = await stream.run(write, disconnected)  # write(bytes); disconnected(): returns when
    # the client went away (optional: a failed write says so too). False: drop the connection.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

__all__ = ["EVENT_STREAM_HEADERS", "EventStream", "sse_event"]

log = logging.getLogger("tbone.realtime")

Write = Callable[[bytes], Awaitable[Any]]
Disconnected = Callable[[], Awaitable[Any]]

EVENT_STREAM_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Type", "text/event-stream; charset=utf-8"),
    ("Cache-Control", "no-cache, no-store, no-transform"),
    ("X-Accel-Buffering", "no"),  # nginx: pass events on as they come
)
_KEEPALIVE = b": keep-alive\n\n"
_EVENT_HEAD = '{"type":"event"'
_SEQ = ',"seq":"'
_QUEUED = 32  # frames waiting for the writer; past that, the session's own queue fills


def sse_event(text: str) -> bytes:
    """One SSE event holding the frame ``text`` (JSON: no raw line breaks in it)."""
    seq = _seq_of(text)
    head = f"id: {seq}\ndata: " if seq is not None else "data: "
    return (head + text + "\n\n").encode("utf-8", "replace")


def _seq_of(text: str) -> str | None:
    """An event frame's ``seq``, read without decoding the frame (the hub builds event frames
    with every earlier value JSON-encoded, so the first ``,"seq":"`` is the real one)."""
    if not text.startswith(_EVENT_HEAD):
        return None
    start = text.find(_SEQ)
    if start < 0:
        return None
    start += len(_SEQ)
    end = text.find('"', start)
    seq = text[start:end]
    if end < 0 or not seq or "\\" in seq:
        return None
    return seq


class EventStream:
    """The server side of one SSE response: frames in through :meth:`put`, bytes out through
    the writer :meth:`run` was given. ``first`` is the frame that opens it (the session's id
    and token).

    Once running, :meth:`put` writes the frame itself (under a lock shared with the keep-alives),
    so a frame costs one write and no hand-over to another task; before that, frames queue.
    Those writes are timed by the loop of :meth:`run`, which ends a stream whose write has
    taken longer than ``write_timeout`` (a timer per write would cost more than the write).
    """

    status = 200

    def __init__(
        self,
        first: str,
        *,
        headers: Iterable[tuple[str, str]] = (),
        keepalive: float = 15.0,
        write_timeout: float = 10.0,
        on_gone: Callable[[EventStream, list[str]], None] | None = None,
    ) -> None:
        self.headers: tuple[tuple[str, str], ...] = (*EVENT_STREAM_HEADERS, *headers)
        self.keepalive = keepalive
        self.write_timeout = write_timeout
        self.done = False  # no more frames are taken: ended, or the client is gone
        self._first = first
        self._last: str | None = None  # the closing frame, once ended
        self._lost = False  # the client went away (or stopped reading)
        self._queue: collections.deque[str] = collections.deque()
        self._writer: Write | None = None  # set while run() runs
        self._writing_since: float | None = None  # when the write under way began
        self._lock = asyncio.Lock()
        self._wakeup = asyncio.Event()
        self._room = asyncio.Event()
        self._on_gone = on_gone

    async def put(self, text: str) -> bool:
        """Send a frame (waiting while the client is behind). False once the stream is done,
        or when its write failed: the caller keeps the frame for the next stream."""
        if self._writer is None:
            return await self._enqueue(text)
        async with self._lock:
            if self.done:
                return False
            loop = asyncio.get_running_loop()
            self._writing_since = loop.time()
            try:
                await self._writer(sse_event(text))
            except Exception as exc:  # a failed or timed-out write: gone, or not reading
                self._fail(exc)
                return False
            finally:
                self._writing_since = None
        return True

    def push(self, texts: Iterable[str]) -> None:
        """Queue frames at once, past the bound (they were bounded where they waited)."""
        self._queue.extend(texts)
        self._wakeup.set()

    def take(self) -> list[str]:
        """End the stream and hand back the frames it has not written."""
        unsent = list(self._queue)
        self._queue.clear()
        self.end()
        return unsent

    def end(self, last: str | None = None) -> None:
        """Finish the response after the queued frames and ``last``; takes no more frames."""
        if self.done:
            return
        self._last = last
        self._stop()

    async def run(self, write: Write, disconnected: Disconnected | None = None) -> bool:
        """Write the stream until it ends; True when it ended cleanly (finish the response),
        False when the client is gone or stopped reading (drop the connection)."""
        watcher = asyncio.ensure_future(self._watch(disconnected)) if disconnected else None
        try:
            async with self._lock:
                self._writer = write
                await self._write(sse_event(self._first))
            while await self._next():
                async with self._lock:
                    await self._flush()
            if self._last is not None and not self._lost:
                async with self._lock:
                    self._queue.append(self._last)
                    await self._flush()
            return not self._lost
        except Exception as exc:  # a failed or timed-out write: gone, or not reading
            self._fail(exc)
            return False
        finally:
            if watcher is not None:
                watcher.cancel()
            self._gone()

    # -- internals --------------------------------------------------------------------------

    async def _enqueue(self, text: str) -> bool:
        while len(self._queue) >= _QUEUED and not self.done:
            self._room.clear()
            await self._room.wait()
        if self.done:
            return False
        self._queue.append(text)
        self._wakeup.set()
        return True

    async def _next(self) -> bool:
        """Wait for queued frames, writing keep-alives meanwhile and ending a stream whose
        write is stuck; False once ended."""
        tick = min(self.keepalive, self.write_timeout)
        loop = asyncio.get_running_loop()
        idle_since = loop.time()
        while not self._queue or self.done:
            if self.done:
                return False
            self._wakeup.clear()
            try:
                async with asyncio.timeout(tick):
                    await self._wakeup.wait()
            except TimeoutError:
                now = loop.time()
                since = self._writing_since
                if since is not None and now - since > self.write_timeout:
                    raise TimeoutError("a write to the event stream did not finish") from None
                if self._lock.locked():  # a write is under way: as good as a keep-alive
                    idle_since = now
                elif now - idle_since >= self.keepalive:
                    async with self._lock:
                        await self._write(_KEEPALIVE)
                    idle_since = now
        return True

    async def _flush(self) -> None:
        """Write every queued frame at once; a write that fails leaves them queued, so that
        they are handed back (a frame written into a dead connection is not lost)."""
        texts = list(self._queue)
        self._queue.clear()
        self._room.set()
        try:
            await self._write(b"".join(map(sse_event, texts)))
        except BaseException:
            self._queue.extendleft(reversed(texts))
            raise

    async def _write(self, data: bytes) -> None:
        assert self._writer is not None
        async with asyncio.timeout(self.write_timeout):
            await self._writer(data)

    def _fail(self, exc: BaseException) -> None:
        log.debug("an event stream ended: %r", exc)
        self._lost = True
        self._stop()

    async def _watch(self, disconnected: Disconnected) -> None:
        try:
            await disconnected()
        except Exception:  # the transport's receive failing means the client is gone too
            log.debug("watching an event stream's client failed", exc_info=True)
        self._lost = True
        self._stop()

    def _stop(self) -> None:
        self.done = True
        self._wakeup.set()
        self._room.set()

    def _gone(self) -> None:
        """The response is over: hand back the frames that were never written."""
        self._stop()
        unsent = list(self._queue)
        self._queue.clear()
        if self._on_gone is not None:
            self._on_gone(self, unsent)
