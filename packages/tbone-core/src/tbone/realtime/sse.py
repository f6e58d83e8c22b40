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
    """The server side of one SSE response: frames in through :meth:`put`, bytes out in
    :meth:`run`. ``first`` is the frame that opens it (the session's id and token)."""

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
        self._wakeup = asyncio.Event()
        self._room = asyncio.Event()
        self._on_gone = on_gone

    async def put(self, text: str) -> bool:
        """Queue a frame; waits while the writer is behind. False once the stream is done
        (the caller keeps the frame for the next stream)."""
        while len(self._queue) >= _QUEUED and not self.done:
            self._room.clear()
            await self._room.wait()
        if self.done:
            return False
        self._queue.append(text)
        self._wakeup.set()
        return True

    def push(self, texts: Iterable[str]) -> None:
        """Queue frames at once, past the bound (they were bounded where they waited)."""
        self._queue.extend(texts)
        self._wakeup.set()

    def take(self) -> list[str]:
        """End the stream and hand back the frames it has not written."""
        unsent = [text for text in self._queue if text]
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
            await self._write(write, sse_event(self._first))
            while await self._next():
                await self._write_queued(write)
            if self._last is not None and not self._lost:
                frames = [t for t in self._queue if t]
                self._queue.clear()
                await self._write(write, b"".join(map(sse_event, [*frames, self._last])))
            return not self._lost
        except Exception as exc:  # a failed or timed-out write: gone, or not reading
            log.debug("an event stream ended: %r", exc)
            self._lost = True
            return False
        finally:
            if watcher is not None:
                watcher.cancel()
            self._gone()

    # -- internals --------------------------------------------------------------------------

    async def _next(self) -> bool:
        """Wait for frames (writing keep-alives meanwhile); False once ended."""
        while not self._queue or self.done:
            if self.done:
                return False
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), self.keepalive)
            except TimeoutError:
                self._queue.appendleft("")  # "" stands for a keep-alive comment
        return True

    async def _write_queued(self, write: Write) -> None:
        """Write every queued frame at once; a write that fails leaves them queued, so that
        they are handed back (a frame written into a dead connection is not lost)."""
        texts = list(self._queue)
        self._queue.clear()
        self._room.set()
        try:
            await self._write(write, b"".join(sse_event(t) if t else _KEEPALIVE for t in texts))
        except BaseException:
            self._queue.extendleft(reversed(texts))
            raise

    async def _write(self, write: Write, data: bytes) -> None:
        async with asyncio.timeout(self.write_timeout):
            await write(data)

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
        unsent = [text for text in self._queue if text]
        self._queue.clear()
        if self._on_gone is not None:
            self._on_gone(self, unsent)
