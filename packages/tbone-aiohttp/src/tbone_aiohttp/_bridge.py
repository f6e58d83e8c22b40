"""aiohttp requests in, TBone responses out: the only module that imports aiohttp when imported."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web
from multidict import CIMultiDict

from tbone.http.body import read_body
from tbone.http.message import Request, Response
from tbone.realtime.sse import EventStream

if TYPE_CHECKING:
    from tbone.api import API

__all__ = ["Handler", "make_handler", "to_tbone"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Seconds a server-side close may take (a client that does not read blocks the close frame).
CLOSE_TIMEOUT = 5.0


def make_handler(api: API) -> Handler:
    """The route handler that hands every request to ``api``."""

    async def handler(request: web.Request) -> web.StreamResponse:
        body = b""
        if request.body_exists:  # a length or chunks were announced (most GETs have none)
            read = await read_body(
                request.content.readany, declared=request.content_length, limit=api.max_body_size
            )
            if read is None:
                return _to_aiohttp(api.body_too_large())
            body = read
        message = to_tbone(request, body)
        if request.method == "GET":
            opened = await api.open_stream(message)
            if isinstance(opened, EventStream):
                return await _serve_stream(request, opened)
            if opened is not None:
                return _to_aiohttp(opened)
        return _to_aiohttp(await api.handle(message))

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


def to_tbone(request: web.Request, body: bytes) -> Request:
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
    # aiohttp copies the pairs into its own CIMultiDict; no body leaves Content-Length to it
    return web.Response(
        status=response.status, headers=response.headers, body=response.body or None
    )


def _ascii(raw: str) -> str:
    """A raw path or query string as sent; stray non-ASCII characters are percent-encoded."""
    if raw.isascii():
        return raw
    data = raw.encode("utf-8", "surrogateescape")
    return "".join(chr(b) if b < 0x80 else f"%{b:02X}" for b in data)
