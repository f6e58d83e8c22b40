"""The fallback's Server-Sent Events response over ASGI: core's stream owns the loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from tbone.realtime.sse import EventStream

__all__ = ["serve_stream"]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
CLOSE_TIMEOUT = 5.0  # seconds the end of a finished stream may take to send


async def serve_stream(stream: EventStream, receive: Receive, send: Send) -> None:
    """The fallback's Server-Sent Events response; core's stream owns the loop."""
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in stream.headers]
    await send({"type": "http.response.start", "status": stream.status, "headers": headers})

    async def write(data: bytes) -> None:
        await send({"type": "http.response.body", "body": data, "more_body": True})

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    if await stream.run(write, disconnected):
        with contextlib.suppress(Exception):  # the client may be gone by now
            await asyncio.wait_for(send({"type": "http.response.body", "body": b""}), CLOSE_TIMEOUT)
    # else return with the response unfinished: servers drop such a connection
