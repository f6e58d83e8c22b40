"""``StreamSession``: one session of the SSE + POST fallback, and its bounds.

It is a :class:`~tbone.realtime.Session` whose ``send`` writes to the session's current event
stream, keeps what comes while no stream is connected (bounded like the session's own queue),
and can replay what a reconnecting client missed (:meth:`StreamSession.resume`).
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from ..http.message import Request
from ..jsontext import encode
from .limits import CloseCode
from .sse import EventStream

if TYPE_CHECKING:
    from .fallback import Streams
    from .session import Close, Send, Session

__all__ = ["OpenSession", "StreamLimits", "StreamSession"]

log = logging.getLogger("tbone.realtime")

OpenSession = Callable[[Request, "Send", "Close"], "Session"]
_EVENT = '{"type":"event"'
_SUBSCRIBED = '{"type":"subscribed"'
_REMEMBERED = 4096  # positions of sent events remembered, to order a resume


@attrs.frozen(kw_only=True)
class StreamLimits:
    """``API(streams=StreamLimits(...))``: bounds of the fallback beyond the session's own
    (:class:`~tbone.realtime.Limits` applies to fallback sessions as to WebSockets)."""

    #: sessions (streamed or waiting to be resumed) per process; more are refused with 503
    max_sessions: int = 10_000
    #: seconds a session whose stream dropped waits to be resumed before it is closed
    resume_grace: float = 15.0
    #: seconds between keep-alive comments on an idle stream
    keepalive: float = 15.0
    #: seconds one write to the stream may take; a client that does not read is dropped
    write_timeout: float = 10.0
    #: frames in one POST
    max_frames_per_post: int = 100
    #: POSTs of one session handled at once; more get 429
    max_posts_in_flight: int = 4
    #: seconds a POST may wait for room in a stream the client does not read (then 503)
    post_timeout: float = 10.0


class StreamSession:
    """One fallback session: a :class:`Session`, the stream it writes to (if connected), and
    what it wrote while no stream was connected."""

    def __init__(self, streams: Streams, request: Request, open_session: OpenSession) -> None:
        self.id = secrets.token_urlsafe(12)
        self.token = secrets.token_urlsafe(24)
        self.streams = streams
        self.stream: EventStream | None = None
        self.session = open_session(request, self.send, self.close)
        self.posts = 0
        self.lock = asyncio.Lock()  # frames of concurrent POSTs are handled one POST at a time
        self._pending: collections.deque[str] = collections.deque()
        self._pending_bytes = 0
        self._expiry: asyncio.TimerHandle | None = None
        self._ordinal = itertools.count()
        self._sent: collections.OrderedDict[str, int] = collections.OrderedDict()
        self._started: dict[str, tuple[int, str]] = {}  # subscription -> (ordinal, seq)

    # -- the Session's send and close -------------------------------------------------------

    async def send(self, text: str) -> None:
        self._note(text)
        while (stream := self.stream) is not None:
            if await stream.put(text):
                return
            if stream is self.stream:  # it ended and none replaced it
                break
        await self._keep(text)

    async def close(self, code: int, reason: str) -> None:
        self.streams.forget(self)
        self._cancel_expiry()
        if self.stream is not None:
            self.stream.end(encode({"type": "close", "code": code, "reason": reason}))

    # -- streams ----------------------------------------------------------------------------

    def connect(self, stream: EventStream, after: str | None = None) -> None:
        """Write to ``stream`` from now on (ending the one before, if any), starting with what
        waited; with ``after`` (a resume) the events that waited are left to :meth:`resume`."""
        self._cancel_expiry()
        old, self.stream = self.stream, stream
        backlog = [*(old.take() if old is not None else ()), *self._pending]
        self._pending.clear()
        self._pending_bytes = 0
        if after is not None:
            backlog = [text for text in backlog if not text.startswith(_EVENT)]
        stream.push(backlog)

    def stream_gone(self, stream: EventStream, unsent: list[str]) -> None:
        if stream is not self.stream:
            return
        self.stream = None
        for text in reversed(unsent):
            self._pending.appendleft(text)
            self._pending_bytes += len(text)
        if not self.session.closed:
            loop = asyncio.get_running_loop()
            self._expiry = loop.call_later(self.streams.options.resume_grace, self._expire)

    async def resume(self, after: str) -> None:
        """Send what the client missed after position ``after``: each subscription's events
        replayed (checked as it is now), or a ``resync`` event where history does not reach."""
        session = self.session
        subs = list(session.subscriptions.values())
        for sub in subs:
            sub.hold()
        pasts: dict[str, Any] = {}
        for sub in subs:
            start = self._started.get(sub.id)
            seen = self._sent.get(after)
            position = start[1] if start and seen is not None and start[0] > seen else after
            if position not in pasts:
                try:
                    pasts[position] = await session.hub.history(position)
                except Exception:  # a channel that cannot answer is one without that history
                    log.warning("could not read event history to resume a stream", exc_info=True)
                    pasts[position] = None
            past = pasts[position]
            if past is not None and len(past) > session.limits.max_replay:
                past = None  # too long a gap to replay: the client re-fetches (bounded work)
            replayed: frozenset[str] = frozenset()
            if past is None:
                frame = {"type": "event", "subscription": sub.id, "resource": sub.resource.name}
                session.enqueue(encode({**frame, "event": "resync"}))
            else:
                sub.seq = position
                replayed = await session.hub.replay(sub, past)
            fresh, _ = sub.release({}, replayed)
            for held in fresh:
                sub.emit(held)

    # -- internals --------------------------------------------------------------------------

    async def _keep(self, text: str) -> None:
        limits = self.session.limits
        if self._pending and (
            len(self._pending) >= limits.send_queue
            or self._pending_bytes + len(text) > limits.send_queue_bytes
        ):
            log.warning("closing a stream session: its stream is gone and its queue is full")
            await self.session.close(CloseCode.POLICY, "send queue overflow")
            return
        self._pending.append(text)
        self._pending_bytes += len(text)

    def _note(self, text: str) -> None:
        """Remember the order of sent events and subscription answers, for :meth:`resume`."""
        if text.startswith(_EVENT):
            start = text.find(',"seq":"')
            if start >= 0:
                seq = text[start + 8 : text.find('"', start + 8)]
                self._sent[seq] = next(self._ordinal)
                if len(self._sent) > _REMEMBERED:
                    self._sent.popitem(last=False)
        elif text.startswith(_SUBSCRIBED):
            answer = json.loads(text)
            if isinstance(answer.get("seq"), str):
                self._started[answer["subscription"]] = (next(self._ordinal), answer["seq"])

    def _expire(self) -> None:
        self._expiry = None
        close = self.session.close(CloseCode.GOING_AWAY, "the event stream was not resumed")
        self.streams.spawn(close)

    def _cancel_expiry(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
