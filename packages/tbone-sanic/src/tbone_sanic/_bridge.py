"""Sanic requests in, TBone responses out: the only module that imports Sanic at import time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any

from sanic import Sanic
from sanic.compat import Header
from sanic.exceptions import MethodNotAllowed, WebsocketClosed
from sanic.request import Request as SanicRequest
from sanic.response import HTTPResponse
from sanic.server.websockets.frame import WebsocketFrameAssembler
from sanic.server.websockets.impl import WebsocketImplProtocol
from websockets.exceptions import ConnectionClosed

from tbone.http.body import read_body
from tbone.http.message import Request, Response
from tbone.realtime import SUBPROTOCOL
from tbone.realtime.sse import EventStream

if TYPE_CHECKING:
    from tbone.api import API

__all__ = ["make_handler", "make_ws_handler", "route_unknown_methods"]

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse | None]]
# Seconds a close handshake with a client that reads may take before the connection is ended.
CLOSE_TIMEOUT = 5.0


class _RawResponse(HTTPResponse):
    """Sends exactly the headers it was given: no ``content-type: None`` for bodiless responses."""

    @property
    def processed_headers(self) -> Iterator[tuple[bytes, bytes]]:
        sanitize = self._sanitize_header_value
        return (
            (sanitize(name).encode("ascii"), sanitize(f"{value}").encode(errors="surrogateescape"))
            for name, value in self.headers.items()
        )


def make_handler(api: API) -> Handler:
    """The route handler (a streaming one) that hands every request to ``api``."""

    async def handler(request: SanicRequest, rest: str = "") -> HTTPResponse | None:
        body = await _body(api, request)
        if body is None:
            return _to_sanic(api.body_too_large())
        message = _to_tbone(request, body)
        if request.method == "GET":
            opened = await api.open_stream(message)
            if isinstance(opened, EventStream):
                await _serve_stream(request, opened)
                return None
            if opened is not None:
                return _to_sanic(opened)
        return _to_sanic(await api.handle(message))

    return handler


def make_ws_handler(api: API, http: Handler) -> Handler:
    """The ``{prefix}/ws`` handler: one ``tbone.v1`` session per socket; plain HTTP to ``http``.

    A plain route rather than ``add_websocket_route``, whose handshake refuses (400) clients
    that offer no subprotocol and answers requests without ``Upgrade`` with its own 426 page.
    """

    async def session(request: SanicRequest, ws: WebsocketImplProtocol) -> None:
        _stop_timeout_checks(request)
        _close_on_invalid_utf8(ws)
        tbone_session = api.open_session(_to_tbone(request, b""), send=ws.send, close=_closer(ws))

        async def receive() -> str | bytes | None:
            while True:
                try:
                    message = await ws.recv()
                except (ConnectionClosed, WebsocketClosed):
                    return None  # closed by the client, the server, or Sanic (1009 when too big)
                if message is not None:  # None: a recv() interrupted without a message
                    return message if isinstance(message, str) else bytes(message)

        await tbone_session.run(receive)

    async def handler(request: SanicRequest) -> HTTPResponse | None:
        if request.headers.get("upgrade", "").lower() != "websocket":
            return await http(request)
        offered = ",".join(request.headers.getall("sec-websocket-protocol", []))
        chosen = [SUBPROTOCOL] if SUBPROTOCOL in {p.strip() for p in offered.split(",")} else None
        # What Sanic's own WebSocket routes run: handshake, then the handler as a tracked task.
        app: Any = request.app  # Any: _websocket_handler is untyped
        await app._websocket_handler(session, request, subprotocols=chosen)
        return None

    handler.is_websocket = True  # type: ignore[attr-defined] # Sanic: no HTTP response expected
    return handler


def _stop_timeout_checks(request: SanicRequest) -> None:
    """Cancel the HTTP timeout check Sanic leaves scheduled on an upgraded connection.

    Sanic (up to 25.12.1 at least) schedules ``HttpProtocol.check_timeouts`` every
    min(request, response, keep-alive timeout) / 2 seconds (30 s by default). On a WebSocket
    the check does nothing, but its pending timer holds the connection's protocol, and through
    it the socket, its buffers and the request, for up to that long after the socket closed:
    ``WebSocketProtocol.close()`` skips ``HttpProtocol.close()``, the one place that cancels it.
    Under connection churn that is about 17 KB per connection of the last 30 s (5,000 quick
    connect/close cycles grew RSS by 67 MB). Nothing else reschedules the check once a socket
    is upgraded, so cancelling it here changes no timeout.
    """
    # getattr: a private attribute, absent under ASGI or if a later Sanic renames it
    timer = getattr(request.protocol, "_callback_check_timeouts", None)
    if timer is not None:
        timer.cancel()


class _CheckedAssembler(WebsocketFrameAssembler):
    """Sanic's frame assembler, closing with 1007 (RFC 6455 §8.1) on a text frame that is not
    UTF-8.

    Sanic decodes text frames in its assembler, in a background task: a decoding error there
    is logged as an unretrieved task exception, the frame is dropped and the socket stays open
    with the client waiting for an answer. Here it becomes the close the protocol asks for, as
    aiohttp does.
    """

    __slots__ = ()

    async def put(self, frame: Any) -> None:
        try:
            await super().put(frame)
        except UnicodeDecodeError:
            self.protocol.end_connection(1007, "invalid UTF-8")  # type: ignore[no-untyped-call] # untyped in Sanic


def _close_on_invalid_utf8(ws: WebsocketImplProtocol) -> None:
    # Right after the handshake, before the first frame is read: nothing is assembled yet.
    ws.assembler = _CheckedAssembler(ws)


def _closer(ws: WebsocketImplProtocol) -> Callable[[int, str], Awaitable[None]]:
    async def close(code: int, reason: str) -> None:
        # A client that reads gets the close handshake (ws.close()), which also reads what it
        # sent meanwhile: closing a socket with unread input resets it, and the reset could
        # cost the client the frames just before the close (a refused handshake's 401).
        # A client that does not read (its data still sits in our write buffer) would block
        # ws.close(), and its close frame was lost when that wait was given up (1006, not
        # 1008): end_connection() writes the close frame behind what is buffered, then Sanic
        # waits WEBSOCKET_TIMEOUT (10 s) for the client's answer before dropping it.
        transport: Any = getattr(ws.io_proto, "transport", None)
        if transport is not None and transport.get_write_buffer_size() == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ws.close(code, reason), CLOSE_TIMEOUT)
                return
        ws.end_connection(code, reason)  # type: ignore[no-untyped-call] # untyped in Sanic

    return close


def route_unknown_methods(app: Sanic[Any, Any], api: API) -> None:
    """Let core answer methods Sanic's router does not know (PROPFIND ...) under the prefix.

    Sanic raises ``MethodNotAllowed`` for them before any route runs; one handler per app
    sends those under a mounted prefix to that API and leaves the rest to Sanic's default.
    """
    apis: list[API] | None = getattr(app.ctx, "tbone_apis", None)
    if apis is None:
        apis = app.ctx.tbone_apis = []

        async def method_not_allowed(request: SanicRequest, exc: Exception) -> HTTPResponse:
            path = _ascii(request.raw_url.partition(b"?")[0])
            for mounted in apis:
                prefix = mounted.prefix
                if not prefix or path == prefix or path.startswith(prefix + "/"):
                    return _to_sanic(await mounted.handle(_to_tbone(request, b"")))
            return app.error_handler.default(request, exc)

        app.error_handler.add(MethodNotAllowed, method_not_allowed)
    apis.append(api)


async def _serve_stream(request: SanicRequest, stream: EventStream) -> None:
    """The fallback's Server-Sent Events response; core's stream owns the loop."""
    headers = [(k, v) for k, v in stream.headers if k.lower() != "content-type"]
    content_type = next(v for k, v in stream.headers if k.lower() == "content-type")
    response = await request.respond(
        status=stream.status, headers=Header(headers), content_type=content_type
    )
    if response is None:  # pragma: no cover - respond() returns the response it starts
        return
    if await stream.run(response.send):
        with contextlib.suppress(Exception):  # the client may be gone by now
            await asyncio.wait_for(response.eof(), CLOSE_TIMEOUT)
            return
    transport: Any = getattr(request, "transport", None)
    if transport is not None:  # gone, or not reading: its buffers are dropped too
        transport.abort()


async def _body(api: API, request: SanicRequest) -> bytes | None:
    """The request's whole body (``b""`` when none was announced), None when over the limit."""
    # Any: Sanic types request.stream as a protocol without read(); it is the connection's Http.
    stream: Any = request.stream
    headers = request.headers
    if stream is None or ("content-length" not in headers and "transfer-encoding" not in headers):
        return b""  # HTTP/1.1: no length and no chunks, no body (most GETs)
    return await read_body(
        stream.read, declared=headers.get("content-length"), limit=api.max_body_size
    )


def _to_tbone(request: SanicRequest, body: bytes) -> Request:
    path, _, query = request.raw_url.partition(b"?")
    # Header values as their bytes read in Latin-1, as every adapter gives them (Sanic decodes
    # UTF-8 with surrogate escapes for the bytes that are not).
    headers = [(name, _latin1(value)) for name, value in request.headers.items()]
    return Request(request.method, _ascii(path), _ascii(query), headers, body)


def _to_sanic(response: Response) -> HTTPResponse:
    headers = Header(list(response.headers))
    return _RawResponse(response.body, status=response.status, headers=headers)


def _latin1(value: str) -> str:
    if value.isascii():
        return value
    return value.encode("utf-8", "surrogateescape").decode("latin-1")


def _ascii(target: bytes) -> str:
    """A raw path or query string as sent; stray non-ASCII bytes are percent-encoded."""
    if target.isascii():
        return target.decode("ascii")
    return "".join(chr(b) if b < 0x80 else f"%{b:02X}" for b in target)
