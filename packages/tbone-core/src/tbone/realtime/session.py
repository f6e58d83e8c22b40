"""``Session``: one WebSocket connection speaking ``tbone.v1``, independent of any server.

Transports hand it the socket's three operations and run it; it owns the receive loop::

    session = api.open_session(request, send=ws.send_text, close=ws.close)
    await session.run(receive)  # receive() -> the next text/bytes message, None once closed

(``start()``, ``receive(message)`` and ``finish()`` are the loop's steps, for tests.)
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ..data import version_of
from ..errors import BadRequest, FrameError, LimitExceeded, NotAuthenticated, NotFound
from ..http.message import Headers, Request
from ..http.problem import problem_for
from ..jsontext import encode
from ..resources.context import Context
from ..resources.refs import expand, parse_expand
from ..resources.resource import ListQuery
from ..storage.params import parse_filter
from . import eager
from .frames import error_frame, parse_frame, simple_error
from .limits import CloseCode, Limits
from .live import EVENTS, Budget, Held, Holdings, LiveSubscription

if TYPE_CHECKING:
    from ..http.handler import HTTPHandler
    from ..resources.auth import Authenticator
    from ..resources.resource import Resource
    from .hub import EventHub

__all__ = ["Receive", "Session"]

log = logging.getLogger("tbone.realtime")

Send = Callable[[str], Awaitable[Any]]
Close = Callable[[int, str], Awaitable[Any]]
Receive = Callable[[], Awaitable[str | bytes | None]]
_MAX_SEQ = 200  # characters of an ``after`` position
_EVENT_SETS: dict[frozenset[str], frozenset[str]] = {EVENTS: EVENTS}
# Handshake headers that describe the WebSocket itself, not the requests made over it.
_CONNECTION_HEADERS = frozenset(
    {"connection", "upgrade", "content-length", "content-type", "transfer-encoding", "host"}
)


class Session:
    """The server side of one client connection.

    It is given what it uses: the hub it joins, the HTTP handler that answers its requests,
    the resources it subscribes to, and the API's authenticator for the connection itself
    (each subscription authenticates with its resource's own, as HTTP requests do).
    """

    # slots: thousands of sessions per process, each with about thirty attributes
    __slots__ = (
        "_budget",
        "_close",
        "_control_lock",
        "_drained",
        "_expired",
        "_expiry",
        "_idle",
        "_ids",
        "_last_seen",
        "_outbox",
        "_outbox_bytes",
        "_overflowed",
        "_reply_bytes",
        "_reply_frames",
        "_requests",
        "_send",
        "_sender",
        "_tasks",
        "_token",
        "authenticator",
        "closed",
        "handler",
        "hub",
        "limits",
        "owner",
        "request",
        "resources",
        "subscriptions",
        "user",
    )

    def __init__(
        self,
        request: Request,
        send: Send,
        close: Close,
        *,
        hub: EventHub,
        handler: HTTPHandler,
        resources: Mapping[str, Resource[Any]],
        authenticator: Authenticator | None = None,
        limits: Limits | None = None,
        owner: Any = None,
    ) -> None:
        self.request = request
        self.limits = limits = limits or Limits()
        self.hub = hub
        self.handler = handler
        self.resources = resources
        self.authenticator = authenticator
        self.owner = owner
        self.user: Any = None
        self.closed = False
        self._overflowed = False
        self.subscriptions: dict[str, LiveSubscription] = {}
        self._send = send
        self._close = close
        self._token: str | None = None
        # Frames are sent as they come (see _send_eagerly); those that come while a send
        # waits for the client to read queue in the outbox, each with its UTF-8 size
        # (measured once), for the one task that sends them then (``_sender``). Both exist
        # only meanwhile, as do the other objects made when first needed: most connections
        # are idle most of the time.
        self._outbox: collections.deque[tuple[str, int]] | None = None
        self._outbox_bytes = 0
        self._sender: asyncio.Task[None] | None = None
        self._requests: asyncio.Semaphore | None = None
        self._tasks: set[asyncio.Task[Any]] | None = None
        self._ids = itertools.count(1)
        self._budget = Budget(limits.tracked_objects_per_connection)
        # subscribe, unsubscribe and re-authorization take turns (an expiry comes on its own)
        self._control_lock: asyncio.Lock | None = None
        self._expiry: asyncio.TimerHandle | None = None
        self._expired = False  # the handshake's own credentials count no more
        self._last_seen = 0.0
        self._idle: asyncio.TimerHandle | None = None  # closes the connection when it idles
        # Replies to the client's own frames may fill half the send queue; past that the
        # session stops reading from it (TCP back-pressure) and the other half stays free
        # for events, so only events, which cannot wait, ever overflow it.
        self._reply_frames = max(1, limits.send_queue // 2)
        self._reply_bytes = max(1, limits.send_queue_bytes // 2)
        self._drained: asyncio.Event | None = None  # made when a reader waits for room

    # -- driven by the transport ------------------------------------------------------------

    async def run(self, receive: Receive) -> None:
        """The whole connection: authenticate, handle every message, clean up."""
        try:
            if await self.start():
                while (message := await receive()) is not None:
                    await self.receive(message)
        finally:
            await self.finish()

    async def start(self) -> bool:
        """Authenticate the connection; on refusal send an error frame, close, return False."""
        try:
            self._token = _query_token(self.request)
            self.user = await self._authenticate(self.authenticator)
        except NotAuthenticated as exc:
            await self._send_now(error_frame(None, *problem_for(exc)[:2]))
            await self.close(CloseCode.UNAUTHORIZED, "authentication failed")
            return False
        loop = asyncio.get_running_loop()
        self._last_seen = loop.time()
        self._idle = loop.call_at(self._last_seen + self.limits.idle_timeout, self._check_idle)
        self.hub.attach(self)
        self._watch_expiry()
        return True

    async def receive(self, data: str | bytes) -> None:
        """Handle one frame from the client."""
        if self.closed:
            return
        self._last_seen = asyncio.get_running_loop().time()
        if _too_big(data, self.limits.max_frame_bytes):
            log.warning("closing a WebSocket: a %d-character frame exceeds the limit", len(data))
            await self.close(CloseCode.TOO_BIG, "frame too large")
            return
        try:
            frame = parse_frame(data, self.handler.max_json_depth)
        except FrameError as exc:
            self.enqueue(error_frame(exc.frame_id, *problem_for(exc)[:2]))
        else:
            await self._handle(frame)
        await self._room_for_replies()

    async def finish(self) -> None:
        """The connection is gone: forget every subscription and stop every task."""
        self.closed = True
        self._forget()

    # -- output -----------------------------------------------------------------------------

    def enqueue(self, text: str, size: int | None = None) -> None:
        """Queue a frame for the client; a full queue means the client is not reading.

        The queue is bounded in frames and in bytes (``Limits.send_queue`` and
        ``send_queue_bytes``); one frame larger than the byte bound is accepted into an
        empty queue, so a big reply is never refused for its size alone. ``size``: the
        frame's UTF-8 size, when the caller knows it.
        """
        if self.closed or self._overflowed:
            return
        outbox = self._outbox
        if outbox is None:  # nothing waits to be sent before it
            self._send_eagerly(text)
            return
        if size is None:
            size = _size(text)
        limits = self.limits
        if outbox and (
            len(outbox) >= limits.send_queue or self._outbox_bytes + size > limits.send_queue_bytes
        ):
            log.warning(
                "closing a WebSocket: %d frames (%d bytes) queued and the client is not reading",
                len(outbox),
                self._outbox_bytes,
            )
            self.overflow()
            return
        outbox.append((text, size))
        self._outbox_bytes += size

    def overflow(self) -> None:
        """The client does not read what it is sent: close it (1008); it resumes later."""
        if self._overflowed or self.closed:
            return
        self._overflowed = True  # nothing more is queued (or logged) while it closes
        self._spawn(self.close(CloseCode.POLICY, "send queue overflow"), "overflow close")

    async def close(self, code: int, reason: str) -> None:
        """Close the connection from the server side."""
        if self.closed:
            return
        self.closed = True
        self._forget()
        try:
            await self._close(code, reason)
        except Exception:  # the socket may already be gone; closing is best effort
            log.debug("closing a WebSocket failed", exc_info=True)

    def _replies_wait(self) -> bool:
        outbox = self._outbox
        return outbox is not None and (
            len(outbox) >= self._reply_frames or self._outbox_bytes >= self._reply_bytes
        )

    async def _room_for_replies(self) -> None:
        while not self.closed and self._replies_wait():
            if self._drained is None:
                self._drained = asyncio.Event()
            self._drained.clear()
            await self._drained.wait()

    # -- frames -----------------------------------------------------------------------------

    async def _handle(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "ping":
            self.enqueue('{"type":"pong"}')
        elif kind == "request":
            if self._requests is None:
                self._requests = asyncio.Semaphore(self.limits.max_concurrent_requests)
            await self._requests.acquire()  # back-pressure: the reader waits for a free slot
            self._spawn(self._request(frame), "request")
        else:
            try:
                async with self._control_turn():
                    await self._control(kind, frame)
            except Exception as exc:  # answered as an error frame, like HTTP answers a problem
                self.enqueue(error_frame(frame.get("id"), *self._problem(exc)))

    async def _control(self, kind: str, frame: dict[str, Any]) -> None:
        if kind == "subscribe":
            await self._subscribe(frame)
        elif kind == "unsubscribe":
            self._unsubscribe(frame)
            self.enqueue(encode({"type": "unsubscribed", "id": frame["id"]}))
        elif kind == "auth":
            token = frame.get("token")
            if not isinstance(token, str) or not token:
                raise FrameError("an auth frame needs a 'token' string", frame["id"])
            self.user = await self._authenticate(self.authenticator, token)
            self._token, self._expired = token, False
            await self._reauthenticate()
            self._watch_expiry()
            self.enqueue(encode({"type": "authenticated", "id": frame["id"]}))

    def _control_turn(self) -> asyncio.Lock:
        if self._control_lock is None:
            self._control_lock = asyncio.Lock()
        return self._control_lock

    def _watch_expiry(self) -> None:
        """When the authenticator tells when the user's credentials expire
        (``expires_at(user)``, a Unix time), re-authorize everything at that moment."""
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        expires_at = getattr(self.authenticator, "expires_at", None)
        when = expires_at(self.user) if expires_at is not None and self.user is not None else None
        if when is None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, float(when) - time.time())
        self._expiry = loop.call_later(delay, self._on_expiry)

    def _on_expiry(self) -> None:
        self._spawn(self._expire(), "token expiry")

    async def _expire(self) -> None:
        """The credentials expired: the connection goes on anonymously, told so with an error
        frame (401); every subscription is re-checked as anonymous (ended, or sent ``left``
        for what anonymous users may not see), until an ``auth`` frame brings new ones."""
        async with self._control_turn():
            self._expiry = None
            if self.closed:
                return
            self._token, self.user, self._expired = None, None, True
            detail = "the credentials of this connection expired; send an auth frame"
            self.enqueue(simple_error(None, 401, detail))
            await self._reauthenticate()

    async def _request(self, frame: dict[str, Any]) -> None:
        try:
            request = self._http_request(frame)
            response = await self.handler.handle(request, via="websocket")
            body: Any = None
            if response.body:
                text = response.body.decode()
                body = (
                    json.loads(text) if "json" in (response.header("content-type") or "") else text
                )
            out = {
                "type": "response",
                "id": frame["id"],
                "status": response.status,
                "headers": dict(response.headers),
                "body": body,
            }
            self.enqueue(encode(out))
        except Exception as exc:
            self.enqueue(error_frame(frame.get("id"), *self._problem(exc)))
        finally:
            assert self._requests is not None  # acquired before the request started
            self._requests.release()

    def _http_request(self, frame: dict[str, Any]) -> Request:
        method, path, headers = (
            frame.get("method", "GET"),
            frame.get("path"),
            frame.get("headers", {}),
        )
        if not isinstance(method, str) or not isinstance(path, str) or not path.startswith("/"):
            raise FrameError(
                "a request needs a 'method' string and a 'path' starting with '/'", frame["id"]
            )
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise FrameError("'headers' must be an object of strings", frame["id"])
        merged = {k: v for k, v in self.request.headers.items() if k not in _CONNECTION_HEADERS}
        if self._expired:
            merged.pop("authorization", None)
        if self._token is not None:
            merged["authorization"] = f"Bearer {self._token}"
        merged.update({k.lower(): v for k, v in headers.items()})
        body = b""
        if "body" in frame:
            body = encode(frame["body"]).encode()
            merged.setdefault("content-type", "application/json")
        path, _, query = path.partition("?")
        return Request(method.upper(), _ascii(path), _ascii(query), Headers(merged), body)

    async def _subscribe(self, frame: dict[str, Any]) -> None:
        """Start a subscription and answer it; with ``snapshot`` the answer holds the matching
        objects and the position they reflect, with ``after`` the missed events follow it (or
        it says ``resync``), and no live event is lost or sent twice across either hand-off."""
        if len(self.subscriptions) >= self.limits.max_subscriptions:
            raise LimitExceeded(
                f"at most {self.limits.max_subscriptions} subscriptions per connection"
            )
        resource = self._resource(frame.get("resource"))
        events = _events(frame)
        snapshot, after = _hand_off(frame)
        ctx = await self._context(resource)
        pk = frame.get("pk")
        await resource.authorize(ctx, "list" if pk is None else "detail")
        where = parse_filter(
            resource.model,
            frame.get("filter") or {},
            allowed=resource.filter_fields,
            limits=resource.active_query_limits(),
        )
        query = self._snapshot_query(resource, frame, where) if snapshot else None
        if query is None and frame.get("expand") is not None:
            raise FrameError(
                "'expand' embeds references in a snapshot: add 'snapshot': true", frame["id"]
            )
        if pk is not None:
            pk = resource.collection._wire_pk(pk)
        holdings = Holdings(self.limits.tracked_objects, self._budget)
        sub = LiveSubscription(
            f"s{next(self._ids)}",
            self,
            resource,
            events,
            ctx,
            where,
            resource.scope_node(ctx),
            pk,
            holdings=holdings,
        )
        sub.hold()
        self.subscriptions[sub.id] = sub
        # Every event the hub dispatches after this position reaches the subscription (the
        # two lines run with no await between them): where a plain answer says it starts.
        start = self.hub.last_seq
        self.hub.add(sub)
        answer: dict[str, Any] = {"type": "subscribed", "id": frame["id"], "subscription": sub.id}
        try:
            await self._hand_over(sub, answer, after, query, start)
        except BaseException:
            self._drop(sub)
            raise

    async def _hand_over(
        self,
        sub: LiveSubscription,
        answer: dict[str, Any],
        after: str | None,
        query: ListQuery | None,
        start: str | None,
    ) -> None:
        past = await self.hub.history(after, sub.resource) if after is not None else None
        if past is not None and len(past) > min(self.limits.max_replay, self.hub.max_replay):
            past = None  # too long a gap to replay: the client re-snapshots (bounded work)
        fresh: list[Held]
        if past is not None:  # resume: the answer, the missed events, then the held ones
            assert after is not None
            sub.seq = after
            self.enqueue(encode(answer))
            replayed = await self.hub.replay(sub, past, self._room_for_replies)
            until = self.hub.catch_up(sub, after, past)  # the client may be ahead of it
            fresh, _ = sub.release({}, replayed, until)
        elif query is not None:  # snapshot: the objects, then what they do not reflect
            seq_before = await self.hub.position()
            result = await sub.resource.list(query, sub.ctx)
            objects = [sub.resource.serialize(o, sub.ctx) for o in result.objects]
            if query.expand:  # while the events are still held
                await expand(sub.resource, result.objects, objects, query.expand, sub.ctx)
            known = {getattr(o, sub.resource.pk): version_of(o) for o in result.objects}
            fresh, reflected = sub.release(_wire_keys(sub, known))
            answer["seq"] = sub.seq = reflected or seq_before
            answer["objects"] = objects
            if after is not None:
                answer["resync"] = True
            self.enqueue(encode(answer))
        else:
            if after is not None:
                answer["resync"] = True  # the client snapshots again
            # where a later resume may start
            answer["seq"] = sub.seq = start or await self.hub.position()
            fresh, _ = sub.release({})
            self.enqueue(encode(answer))
        for held in fresh:
            sub.emit(held)

    def _snapshot_query(
        self, resource: Resource[Any], frame: dict[str, Any], where: Any
    ) -> ListQuery:
        pairs: list[tuple[str, str]] = []
        order_by = frame.get("order_by")
        if order_by is not None:
            if isinstance(order_by, list) and all(isinstance(k, str) for k in order_by):
                order_by = ",".join(order_by)
            if not isinstance(order_by, str):
                raise FrameError("'order_by' must be a string or a list of strings", frame["id"])
            pairs.append(("order_by", order_by))
        limit = frame.get("limit")
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int):
                raise FrameError("'limit' must be a whole number", frame["id"])
            pairs.append(("limit", str(limit)))
        query = self.handler.list_query(resource, pairs)
        return attrs.evolve(query, where=where, expand=parse_expand(resource, frame.get("expand")))

    def _resource(self, name: Any) -> Resource[Any]:
        resource = self.resources.get(name) if isinstance(name, str) else None
        if resource is None:
            known = ", ".join(sorted(self.resources)) or "none"
            raise NotFound(f"there is no resource named {name!r} (resources: {known})")
        return resource

    def _unsubscribe(self, frame: dict[str, Any]) -> None:
        name = frame.get("subscription")
        if not isinstance(name, str):
            raise FrameError("an unsubscribe frame needs a 'subscription' string", frame["id"])
        sub = self.subscriptions.get(name)
        if sub is None:
            raise NotFound(
                f"there is no subscription {frame.get('subscription')!r} on this connection"
            )
        self._drop(sub)

    def _drop(self, sub: LiveSubscription) -> None:
        self.subscriptions.pop(sub.id, None)
        self.hub.remove(sub)
        sub.holdings.give_up()

    async def _reauthenticate(self) -> None:
        """After an ``auth`` frame, every subscription sees events as the new identity; one
        the new identity may not have is ended with an error frame naming it, and one that
        goes on is sent ``left`` for the objects its client holds that it may no longer see
        (``resync`` when it held more than the server remembers)."""
        for sub in list(self.subscriptions.values()):
            try:
                ctx = await self._context(sub.resource)
                await sub.resource.authorize(ctx, "list" if sub.pk is None else "detail")
            except Exception as exc:
                self._drop(sub)
                self.enqueue(error_frame(None, *self._problem(exc), subscription=sub.id))
                continue
            await self._recheck(sub, ctx)

    async def _recheck(self, sub: LiveSubscription, ctx: Context) -> None:
        sub.ctx, sub.scope = ctx, sub.resource.scope_node(ctx)
        sub.hold()  # events from here on are checked as the new identity, sent after these
        try:
            lost = await sub.recheck()
        finally:
            fresh, _ = sub.release()
        if self.closed:
            return
        for held in (*lost, *fresh):
            sub.emit(held)

    # -- helpers ----------------------------------------------------------------------------

    def _handshake(self, token: str | None = None) -> Request:
        """The opening request, carrying ``token`` or that of the latest ``auth`` frame."""
        request = self.request
        token = token or self._token
        if token is None and not self._expired:
            return request
        headers = {k: v for k, v in request.headers.items() if k != "authorization"}
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        return Request(request.method, request.path, request.query_string, headers, b"")

    async def _context(self, resource: Resource[Any]) -> Context:
        return await resource.context(self._handshake(), "websocket")

    async def _authenticate(
        self, authenticator: Authenticator | None, token: str | None = None
    ) -> Any:
        if authenticator is None:
            return None
        return await authenticator.authenticate(self._handshake(token))

    def _problem(self, exc: BaseException) -> tuple[int, dict[str, Any]]:
        status, body, _ = problem_for(exc)
        if status >= 500:
            log.error("unhandled error in a WebSocket frame", exc_info=exc)
        return status, body

    async def _send_now(self, text: str) -> None:
        try:
            await self._send(text)
        except Exception:
            log.debug("sending on a WebSocket failed", exc_info=True)

    def _send_eagerly(self, text: str) -> None:
        """Send a frame now, in the caller: a send that does not wait (the transport takes
        the bytes) costs no task; one that waits for the client to read is finished by the
        sender task, which then sends what queued meanwhile."""
        try:
            rest = eager.start(self._send(text))
        except Exception:
            self._peer_gone()
            return
        if rest is not None:
            outbox: collections.deque[tuple[str, int]] = collections.deque()
            self._outbox = outbox
            self._sender = task = asyncio.ensure_future(self._send_queued(rest, outbox))
            task.set_name("tbone session sender")

    async def _send_queued(
        self, rest: Awaitable[Any], outbox: collections.deque[tuple[str, int]]
    ) -> None:
        try:
            await rest
            while outbox:
                text, size = outbox.popleft()
                self._outbox_bytes -= size
                if self._drained is not None and not self._replies_wait():
                    self._drained.set()
                await self._send(text)
        except Exception:
            self._peer_gone()
        finally:
            self._sender = self._outbox = None
            self._outbox_bytes = 0

    def _peer_gone(self) -> None:
        """A send failed: the peer went away (the transport will call finish()). What the
        hub is iterating may hold this session, so it is forgotten once the caller returns."""
        if not self.closed:
            self.closed = True
            asyncio.get_running_loop().call_soon(self._forget)

    def _check_idle(self) -> None:
        self._idle = None
        if self.closed:
            return
        loop = asyncio.get_running_loop()
        timeout = self.limits.idle_timeout
        if loop.time() - self._last_seen >= timeout:
            self._spawn(self.close(CloseCode.NORMAL, "idle timeout"), "idle close")
        else:
            self._idle = loop.call_at(self._last_seen + timeout, self._check_idle)

    def _spawn(self, coro: Awaitable[Any], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(f"tbone session {name}")
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _forget(self) -> None:
        for timer in (self._expiry, self._idle):
            if timer is not None:
                timer.cancel()
        self._expiry = self._idle = None
        for sub in list(self.subscriptions.values()):
            self._drop(sub)
        self.hub.detach(self)
        if self._outbox is not None:
            self._outbox.clear()
        self._outbox_bytes = 0
        if self._drained is not None:
            self._drained.set()  # a reader waiting for room must see the socket is gone
        current = asyncio.current_task()
        for task in [*(self._tasks or ()), *([self._sender] if self._sender is not None else [])]:
            if task is not current and not task.done():
                task.cancel()


def _events(frame: dict[str, Any]) -> frozenset[str]:
    if "events" not in frame:
        return EVENTS
    events = frame["events"]
    if (
        not isinstance(events, list)
        or not events
        or not all(isinstance(e, str) and e in EVENTS for e in events)
    ):
        raise FrameError(
            "'events' must be a non-empty list of created, updated, deleted, entered, left",
            frame["id"],
        )
    chosen = frozenset(events)
    return _EVENT_SETS.setdefault(chosen, chosen)  # one object per choice (at most 31)


def _hand_off(frame: dict[str, Any]) -> tuple[bool, str | None]:
    snapshot, after = frame.get("snapshot", False), frame.get("after")
    if not isinstance(snapshot, bool):
        raise FrameError("'snapshot' must be true or false", frame["id"])
    if after is not None and (not isinstance(after, str) or not 0 < len(after) <= _MAX_SEQ):
        raise FrameError(
            f"'after' must be a position (a string of at most {_MAX_SEQ} characters) "
            "from an earlier event or snapshot",
            frame["id"],
        )
    return snapshot, after


def _wire_keys(sub: LiveSubscription, known: dict[Any, int | None]) -> dict[Any, int | None]:
    """Snapshot keys as events carry them (the wire form of the primary key)."""
    wire = sub.resource.collection._wire_pk
    return {wire(pk): version for pk, version in known.items()}


def _size(text: str) -> int:
    """The UTF-8 size of a frame (``isascii`` is a flag check: JSON frames are mostly ASCII)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _too_big(data: str | bytes, limit: int) -> bool:
    """Whether the frame is over ``limit`` bytes (a text frame counts its UTF-8 bytes)."""
    size = len(data)
    if size > limit:
        return True
    if isinstance(data, bytes) or size * 4 <= limit:  # UTF-8 takes at most 4 bytes a character
        return False
    return len(data.encode("utf-8", "surrogatepass")) > limit


def _ascii(raw: str) -> str:
    """A request frame's path or query as a URL carries it: non-ASCII percent-encoded, and a
    lone surrogate (not text) encoded so that the router refuses it as it refuses bad UTF-8."""
    if raw.isascii():
        return raw
    data = raw.encode("utf-8", "surrogatepass")
    return "".join(chr(b) if b < 0x80 else f"%{b:02X}" for b in data)


def _query_token(request: Request) -> str | None:
    try:
        pairs = request.query
    except BadRequest:
        raise NotAuthenticated(
            "the query string is not valid UTF-8, so its token cannot be read"
        ) from None
    for name, value in pairs:
        if name in ("token", "access_token") and value:
            return value
    return None
