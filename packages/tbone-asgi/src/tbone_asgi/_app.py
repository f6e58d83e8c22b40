"""The ASGI 3 application of an API: ``http``, ``websocket`` and ``lifespan`` scopes.

It only converts messages: body reading, the WebSocket session loop and the lifespan steps are
core's (``read_body``, ``Session.run``, ``api.startup/stopping/shutdown``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tbone.http.body import read_body
from tbone.http.message import Request, Response
from tbone.realtime import SUBPROTOCOL
from tbone.realtime.sse import EventStream

from ._stream import serve_stream

if TYPE_CHECKING:
    from tbone.api import API

__all__ = ["TBoneASGI", "asgi_app"]

log = logging.getLogger("tbone.asgi")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# Seconds a server-side close may take (a client that does not read blocks the close frame).
CLOSE_TIMEOUT = 5.0
# Seconds the rest of a refused (too large) body is read and dropped before giving up.
LINGER = 5.0
_NO_BODY = frozenset({204, 304})
_BODILESS = frozenset({"GET", "HEAD"})  # methods whose requests come without a body


class _Disconnected(Exception):
    """The client went away before its request body was complete."""


def asgi_app(api: API) -> TBoneASGI:
    """The ASGI 3 application serving ``api`` (HTTP, its WebSocket at ``{prefix}/ws``, lifespan).

    >>> app = asgi_app(api)  # doctest: +SKIP
    >>> uvicorn.run(app)  # or hypercorn, or mounted in Starlette / FastAPI / Litestar / Django
    """
    return TBoneASGI(api)


class TBoneASGI:
    """An ASGI application for one API.

    Paths are taken from the request target as sent (``raw_path``), so mount it at
    ``api.prefix``. Stores open on the ``lifespan`` startup event, or, where the host sends none
    to sub-applications, lazily on the first request or socket (once, under a lock); hand
    :meth:`lifespan` (or :meth:`startup` / :meth:`shutdown`) to the host to close them.
    """

    def __init__(self, api: API) -> None:
        self.api = api
        self.ws_path = f"{api.prefix}/ws"
        self.startup_error: BaseException | None = None
        self.ready = asyncio.Event()  # set once a lifespan startup has been answered
        self._lock = asyncio.Lock()
        self._stopped = False  # shut down: requests still in flight must not reopen the stores

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:  # the ASGI spec: an application raises for a scope type it does not know
            raise ValueError(f"TBone cannot serve an ASGI {kind!r} scope")

    # -- lifespan --------------------------------------------------------------------------------

    async def startup(self) -> None:
        """Open the stores and the channel unless open (safe to call concurrently)."""
        self._stopped = False
        if not self.api.started:
            async with self._lock:
                await self.api.startup()

    async def shutdown(self) -> None:
        """Close every socket with 1001, then the channel and the stores."""
        self._stopped = True
        await self.api.stopping()
        await self.api.shutdown()

    @asynccontextmanager
    async def lifespan(self, host: object = None) -> AsyncIterator[None]:
        """An async context manager of the API's lifespan, for a host's ``lifespan=`` option."""
        await self.startup()
        try:
            yield
        finally:
            await self.shutdown()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    self.startup_error = exc
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                finally:
                    self.ready.set()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _started(self) -> bool:
        if self._stopped:
            return False
        try:
            await self.startup()
        except Exception:
            log.exception("the API could not start")
            return False
        return True

    # -- http ------------------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        api = self.api
        if not await self._started():
            await _respond(
                send, api.problem(503, "the API is not running (it failed to start or has stopped)")
            )
            return
        declared, chunked = _framing(scope)
        read = _body_reader(receive)
        body: bytes | None
        try:
            if declared is None and not chunked and scope["method"] in _BODILESS:
                body = b""  # no Content-Length, no Transfer-Encoding: no body (RFC 9112 §6.3)
            else:
                body = await read_body(read, declared=declared, limit=api.max_body_size)
        except _Disconnected:
            return  # nobody is left to answer
        if body is None:
            # The 413 goes out at once, but the response stays open while the rest of the body
            # is read and dropped: servers close a finished response's connection, and closing
            # on a client still sending resets it before it reads the answer (hypercorn does).
            await _respond(send, api.body_too_large(), more_body=True)
            if _header(scope, b"expect") != "100-continue":  # else no body is on its way
                await _drain(read)
            await send({"type": "http.response.body", "body": b""})
            return
        request = _to_tbone(scope, "", body)
        if scope["method"] == "GET":
            opened = await api.open_stream(request)
            if isinstance(opened, EventStream):
                await serve_stream(opened, receive, send)
                return
            if opened is not None:
                await _respond(send, opened)
                return
        await _respond(send, await api.handle(request))

    # -- websocket -------------------------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return  # disconnected before the handshake
        if _target(scope)[0] != self.ws_path or not await self._started():
            # Refused before accepting: servers answer the handshake with 403.
            await send({"type": "websocket.close", "code": 1008})
            return
        accept: Message = {"type": "websocket.accept"}
        if SUBPROTOCOL in scope.get("subprotocols", ()):
            accept["subprotocol"] = SUBPROTOCOL  # clients offering none (or others) get none
        await send(accept)

        async def send_text(text: str) -> None:
            await send({"type": "websocket.send", "text": text})

        async def close(code: int, reason: str) -> None:
            message = {"type": "websocket.close", "code": code, "reason": reason}
            await asyncio.wait_for(send(message), CLOSE_TIMEOUT)

        session = self.api.open_session(_to_tbone(scope, "GET", b""), send=send_text, close=close)
        await session.run(_message_reader(receive))


def _body_reader(receive: Receive) -> Callable[[], Awaitable[bytes | None]]:
    more = True

    async def read() -> bytes | None:
        nonlocal more
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            if message["type"] != "http.request":
                continue  # not a body message: nothing in it to read
            more = bool(message.get("more_body", False))
            if chunk := message.get("body", b""):
                return bytes(chunk)
        return None

    return read


async def _drain(read: Callable[[], Awaitable[bytes | None]]) -> None:
    """Read and drop the rest of a refused body, for ``LINGER`` seconds at most."""
    with contextlib.suppress(_Disconnected, TimeoutError):
        async with asyncio.timeout(LINGER):
            while await read() is not None:
                pass


def _message_reader(receive: Receive) -> Callable[[], Awaitable[str | bytes | None]]:
    async def read() -> str | bytes | None:
        while True:
            message = await receive()
            if message["type"] == "websocket.receive":
                text = message.get("text")
                return text if text is not None else bytes(message.get("bytes") or b"")
            if message["type"] == "websocket.disconnect":
                return None

    return read


async def _respond(send: Send, response: Response, *, more_body: bool = False) -> None:
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in response.headers
    ]
    if response.status not in _NO_BODY and all(name != b"content-length" for name, _ in headers):
        headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body, "more_body": more_body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _framing(scope: Scope) -> tuple[str | None, bool]:
    """The request's Content-Length, and whether it has a Transfer-Encoding (one pass)."""
    declared, chunked = None, False
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            declared = bytes(value).decode("latin-1")
        elif key == b"transfer-encoding":
            chunked = True
    return declared, chunked


def _target(scope: Scope) -> tuple[str, str]:
    """The path and query string as the client sent them (not as a host rewrote them)."""
    raw = scope.get("raw_path")
    path = _ascii(bytes(raw)) if raw else quote(scope.get("path", "/"), safe="/:@!$&'()*+,;=~")
    return path, _ascii(bytes(scope.get("query_string", b"")))


def _to_tbone(scope: Scope, method: str, body: bytes) -> Request:
    path, query = _target(scope)
    headers = [
        (bytes(name).decode("latin-1"), bytes(value).decode("latin-1"))
        for name, value in scope.get("headers", ())
    ]
    return Request(method or scope["method"], path, query, headers, body)


def _ascii(raw: bytes) -> str:
    """Raw URL bytes as text; stray non-ASCII bytes are percent-encoded."""
    if raw.isascii():
        return raw.decode("ascii")
    return "".join(chr(b) if b < 0x80 else f"%{b:02X}" for b in raw)
