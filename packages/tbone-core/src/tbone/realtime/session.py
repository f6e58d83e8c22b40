"""``Session``: one WebSocket connection speaking ``tbone.v1``, independent of any server.

Transports drive it with four calls and never look inside frames::

    session = api.open_session(request, send=ws.send_text, close=ws.close)
    if await session.start():  # authenticates; False if it closed the socket
        async for message in ws:  # text as str, binary as bytes
            await session.receive(message)
    await session.finish()  # the socket is gone: drop subscriptions, tasks
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..http.body import encode_json
from ..http.message import Headers, Request
from ..http.problem import HTTPError, problem_for
from ..storage.params import parse_filter
from .frames import FrameError, encode, error_frame, parse_frame
from .hub import LiveSubscription
from .limits import CloseCode, Limits

if TYPE_CHECKING:
    from ..api import API
    from ..resources.context import Context

__all__ = ["Session"]

log = logging.getLogger("tbone.realtime")

Send = Callable[[str], Awaitable[Any]]
Close = Callable[[int, str], Awaitable[Any]]
EVENTS = frozenset({"created", "updated", "deleted"})
# Handshake headers that describe the WebSocket itself, not the requests made over it.
_CONNECTION_HEADERS = frozenset(
    {"connection", "upgrade", "content-length", "content-type", "transfer-encoding", "host"}
)


class Session:
    """The server side of one client connection."""

    def __init__(
        self, api: API, request: Request, send: Send, close: Close, limits: Limits
    ) -> None:
        self.api = api
        self.request = request
        self.limits = limits
        self.user: Any = None
        self.closed = False
        self.subscriptions: dict[str, LiveSubscription] = {}
        self._send = send
        self._close = close
        self._token: str | None = _query_token(request)
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=limits.send_queue)
        self._requests = asyncio.Semaphore(limits.max_concurrent_requests)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ids = itertools.count(1)
        self._last_seen = 0.0
        # Replies to the client's own frames may fill half the send queue; past that the
        # transport stops reading from it (TCP back-pressure) and the other half stays free
        # for events, so only events, which cannot wait, ever overflow it.
        self._reply_room = max(1, limits.send_queue // 2)
        self._drained = asyncio.Event()

    # -- driven by the transport ------------------------------------------------------------

    async def start(self) -> bool:
        """Authenticate the connection; on refusal send an error frame, close, return False."""
        try:
            self.user = await self._authenticate(self._token)
        except HTTPError as exc:
            await self._send_now(error_frame(None, *problem_for(exc)[:2]))
            await self.close(CloseCode.UNAUTHORIZED, "authentication failed")
            return False
        self._last_seen = asyncio.get_running_loop().time()
        self._spawn(self._write_loop(), "writer")
        self._spawn(self._watch_idle(), "idle watchdog")
        self.api.hub.sessions.add(self)
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
            frame = parse_frame(data)
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

    def enqueue(self, text: str) -> None:
        """Queue a frame for the client; a full queue means the client is not reading."""
        if self.closed:
            return
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            log.warning(
                "closing a WebSocket: %d frames queued and the client is not reading",
                self._queue.qsize(),
            )
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

    async def _room_for_replies(self) -> None:
        while not self.closed and self._queue.qsize() >= self._reply_room:
            self._drained.clear()
            await self._drained.wait()

    # -- frames -----------------------------------------------------------------------------

    async def _handle(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "ping":
            self.enqueue('{"type":"pong"}')
        elif kind == "request":
            await self._requests.acquire()  # back-pressure: the reader waits for a free slot
            self._spawn(self._request(frame), "request")
        else:
            try:
                await self._control(kind, frame)
            except Exception as exc:  # answered as an error frame, like HTTP answers a problem
                self.enqueue(error_frame(frame.get("id"), *self._problem(exc)))

    async def _control(self, kind: str, frame: dict[str, Any]) -> None:
        if kind == "subscribe":
            sub = await self._subscribe(frame)
            self.enqueue(encode({"type": "subscribed", "id": frame["id"], "subscription": sub.id}))
        elif kind == "unsubscribe":
            self._unsubscribe(frame)
            self.enqueue(encode({"type": "unsubscribed", "id": frame["id"]}))
        elif kind == "auth":
            token = frame.get("token")
            if not isinstance(token, str) or not token:
                raise FrameError("an auth frame needs a 'token' string", frame["id"])
            self.user = await self._authenticate(token)
            self._token = token
            self.enqueue(encode({"type": "authenticated", "id": frame["id"]}))

    async def _request(self, frame: dict[str, Any]) -> None:
        try:
            request = self._http_request(frame)
            response = await self.api.http.handle(request, via="websocket")
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
            self.enqueue(encode_json(out).decode())
        except Exception as exc:
            self.enqueue(error_frame(frame.get("id"), *self._problem(exc)))
        finally:
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
        if self._token is not None:
            merged["authorization"] = f"Bearer {self._token}"
        merged.update({k.lower(): v for k, v in headers.items()})
        body = b""
        if "body" in frame:
            body = encode_json(frame["body"])
            merged.setdefault("content-type", "application/json")
        path, _, query = path.partition("?")
        return Request(method.upper(), path, query, Headers(merged), body)

    async def _subscribe(self, frame: dict[str, Any]) -> LiveSubscription:
        if len(self.subscriptions) >= self.limits.max_subscriptions:
            raise FrameError(
                f"at most {self.limits.max_subscriptions} subscriptions per connection",
                frame["id"],
                429,
            )
        name = frame.get("resource")
        resource = self.api.resources.get(name) if isinstance(name, str) else None
        if resource is None:
            known = ", ".join(sorted(self.api.resources)) or "none"
            raise HTTPError(404, f"there is no resource named {name!r} (resources: {known})")
        events = frame.get("events", sorted(EVENTS))
        if not isinstance(events, list) or not events or not set(events) <= EVENTS:
            raise FrameError(
                "'events' must be a non-empty list of created, updated, deleted", frame["id"]
            )
        ctx = self._context()
        pk = frame.get("pk")
        await resource.authorize(ctx, "list" if pk is None else "detail")
        where = parse_filter(
            resource.model, frame.get("filter") or {}, allowed=resource.filter_fields
        )
        if pk is not None:
            pk = resource.collection._wire_pk(pk)
        sub = LiveSubscription(
            f"s{next(self._ids)}",
            self,
            resource,
            frozenset(events),
            ctx,
            where,
            resource.scope_node(ctx),
            pk,
        )
        self.subscriptions[sub.id] = sub
        self.api.hub.add(sub)
        return sub

    def _unsubscribe(self, frame: dict[str, Any]) -> None:
        sub = self.subscriptions.pop(str(frame.get("subscription")), None)
        if sub is None:
            raise HTTPError(
                404, f"there is no subscription {frame.get('subscription')!r} on this connection"
            )
        self.api.hub.remove(sub)

    # -- helpers ----------------------------------------------------------------------------

    def _context(self) -> Context:
        from ..resources.context import Context

        return Context(api=self.api, request=self.request, user=self.user, via="websocket")

    async def _authenticate(self, token: str | None) -> Any:
        authenticator = self.api.authenticator
        if authenticator is None:
            return None
        request = self.request
        if token is not None:
            headers = {**dict(request.headers.items()), "authorization": f"Bearer {token}"}
            request = Request(request.method, request.path, request.query_string, headers, b"")
        return await authenticator.authenticate(request)

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

    async def _write_loop(self) -> None:
        while True:
            text = await self._queue.get()
            if text is None:
                return
            if self._queue.qsize() < self._reply_room:
                self._drained.set()
            try:
                await self._send(text)
            except Exception:  # the peer went away; the transport will call finish()
                self.closed = True
                self._forget()
                return

    async def _watch_idle(self) -> None:
        loop = asyncio.get_running_loop()
        timeout = self.limits.idle_timeout
        while not self.closed:
            idle = loop.time() - self._last_seen
            if idle >= timeout:
                await self.close(CloseCode.NORMAL, "idle timeout")
                return
            await asyncio.sleep(timeout - idle)

    def _spawn(self, coro: Awaitable[Any], name: str) -> None:
        task = asyncio.ensure_future(coro)
        task.set_name(f"tbone session {name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _forget(self) -> None:
        for sub in self.subscriptions.values():
            self.api.hub.remove(sub)
        self.subscriptions.clear()
        self.api.hub.sessions.discard(self)
        self._drained.set()  # a reader waiting for room must see the socket is gone
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current and not task.done():
                task.cancel()


def _too_big(data: str | bytes, limit: int) -> bool:
    """Whether the frame is over ``limit`` bytes (a text frame counts its UTF-8 bytes)."""
    size = len(data)
    if size > limit:
        return True
    if isinstance(data, bytes) or size * 4 <= limit:  # UTF-8 takes at most 4 bytes a character
        return False
    return len(data.encode("utf-8", "surrogatepass")) > limit


def _query_token(request: Request) -> str | None:
    for name, value in request.query:
        if name in ("token", "access_token") and value:
            return value
    return None
