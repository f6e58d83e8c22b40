"""aiohttp requests in, TBone responses out: the only module that imports aiohttp when imported."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web
from multidict import CIMultiDict

from tbone.http.body import read_body
from tbone.http.message import Request, Response
from tbone.realtime import SUBPROTOCOL
from tbone.realtime.sse import EventStream

if TYPE_CHECKING:
    from tbone.api import API

__all__ = ["make_handler", "make_ws_handler"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Seconds between keep-alive pings (Sanic's default, so both adapters drop dead peers alike).
HEARTBEAT = 20.0
# Seconds a server-side close may take (a client that does not read blocks the close frame).
CLOSE_TIMEOUT = 5.0


def make_handler(api: API) -> Handler:
    """The route handler that hands every request to ``api``."""

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.method == "GET":
            opened = await api.open_stream(_to_tbone(request, b""))
            if isinstance(opened, EventStream):
                return await _serve_stream(request, opened)
            if opened is not None:
                return _to_aiohttp(opened)
        body = await read_body(
            request.content.readany, declared=request.content_length, limit=api.max_body_size
        )
        if body is None:
            return _to_aiohttp(api.body_too_large())
        return _to_aiohttp(await api.handle(_to_tbone(request, body)))

    return handler


def make_ws_handler(api: API, http: Handler) -> Handler:
    """The ``{prefix}/ws`` handler: one ``tbone.v1`` session per socket; plain HTTP to ``http``."""

    async def handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(
            protocols=(SUBPROTOCOL,),  # chosen when offered; clients offering none are accepted
            # aiohttp refuses a message of exactly max_msg_size bytes; the API allows that size
            max_msg_size=api.limits.max_frame_bytes + 1,
            heartbeat=HEARTBEAT,
            compress=False,  # like Sanic: deflating every event costs more CPU than it saves
        )
        if not ws.can_prepare(request).ok:
            return await http(request)
        await ws.prepare(request)
        session = api.open_session(_to_tbone(request, b""), send=ws.send_str, close=_closer(ws))

        async def receive() -> str | bytes | None:
            message = await ws.receive()
            if message.type is WSMsgType.TEXT or message.type is WSMsgType.BINARY:
                return message.data  # type: ignore[no-any-return]  # str or bytes, by type
            return None  # closed, or an error: aiohttp has closed the socket (1009 when too big)

        await session.run(receive)
        return ws

    return handler


async def _serve_stream(request: web.Request, stream: EventStream) -> web.StreamResponse:
    """The fallback's Server-Sent Events response; core's stream owns the loop."""
    response = web.StreamResponse(status=stream.status, headers=CIMultiDict(stream.headers))
    await response.prepare(request)
    if await stream.run(response.write):
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):
            await asyncio.wait_for(response.write_eof(), CLOSE_TIMEOUT)
            return response
    if request.transport is not None:  # gone, or not reading: its buffers are dropped too
        request.transport.abort()
    return response


def _closer(ws: web.WebSocketResponse) -> Callable[[int, str], Awaitable[None]]:
    async def close(code: int, reason: str) -> None:
        # Cancelled by the timeout, aiohttp drops the connection.
        await asyncio.wait_for(ws.close(code=code, message=reason.encode()), CLOSE_TIMEOUT)

    return close


def _to_tbone(request: web.Request, body: bytes) -> Request:
    # raw_path is the request target as sent (yarl's URL would normalise it).
    target = request.raw_path
    if not target.startswith("/"):  # absolute-form target: http://host/path?query
        target = request.rel_url.raw_path_qs
    path, _, query = target.partition("?")
    headers = [
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.raw_headers
    ]
    return Request(request.method, _ascii(path), _ascii(query), headers, body)


def _to_aiohttp(response: Response) -> web.Response:
    result = web.Response(status=response.status, headers=CIMultiDict(response.headers))
    if response.body:
        result.body = response.body
    return result


def _ascii(raw: str) -> str:
    """A raw path or query string as sent; stray non-ASCII characters are percent-encoded."""
    if raw.isascii():
        return raw
    data = raw.encode("utf-8", "surrogateescape")
    return "".join(chr(b) if b < 0x80 else f"%{b:02X}" for b in data)
