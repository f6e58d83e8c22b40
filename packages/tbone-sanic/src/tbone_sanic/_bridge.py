"""Sanic requests in, TBone responses out: the only module that imports Sanic at import time."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any

from sanic import Sanic
from sanic.compat import Header
from sanic.exceptions import MethodNotAllowed
from sanic.request import Request as SanicRequest
from sanic.response import HTTPResponse

from tbone.http.message import Request, Response

if TYPE_CHECKING:
    from tbone.api import API

__all__ = ["make_handler", "route_unknown_methods"]

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]


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

    async def handler(request: SanicRequest, rest: str = "") -> HTTPResponse:
        return await _handle(api, request)

    return handler


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


async def _handle(api: API, request: SanicRequest) -> HTTPResponse:
    body = await _read_body(request, api.max_body_size)
    if body is None:
        return _to_sanic(api.body_too_large())
    return _to_sanic(await api.handle(_to_tbone(request, body)))


def _to_tbone(request: SanicRequest, body: bytes) -> Request:
    path, _, query = request.raw_url.partition(b"?")
    headers = list(request.headers.items())
    return Request(request.method, _ascii(path), _ascii(query), headers, body)


async def _read_body(request: SanicRequest, limit: int) -> bytes | None:
    """The whole body, or ``None`` as soon as it is known to be larger than ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    # Any: Sanic types request.stream as a protocol without read(); it is the connection's Http.
    stream: Any = request.stream
    if stream is None:
        return b""
    chunks: list[bytes] = []
    size = 0
    while (chunk := await stream.read()) is not None:
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _to_sanic(response: Response) -> HTTPResponse:
    headers = Header(list(response.headers))
    return _RawResponse(response.body, status=response.status, headers=headers)


def _ascii(target: bytes) -> str:
    """A raw path or query string as sent; stray non-ASCII bytes are percent-encoded."""
    if target.isascii():
        return target.decode("ascii")
    return "".join(chr(b) if b < 0x80 else f"%{b:02X}" for b in target)

