"""The ``{prefix}/ws`` endpoint on aiohttp: one ``tbone.v1`` session per socket."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from tbone.realtime import SUBPROTOCOL

from ._bridge import CLOSE_TIMEOUT, Handler, to_tbone

if TYPE_CHECKING:
    from tbone.api import API

__all__ = ["make_ws_handler"]

# Seconds between keep-alive pings (Sanic's default, so both adapters drop dead peers alike).
HEARTBEAT = 20.0


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
        socket = _Socket(ws)
        session = api.open_session(to_tbone(request, b""), send=ws.send_str, close=socket.close)
        await session.run(socket.receive)
        return ws

    return handler


class _Socket:
    """What a session does with its aiohttp socket besides sending: one small object per
    connection (rather than two closures)."""

    __slots__ = ("ws",)

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws

    async def receive(self) -> str | bytes | None:
        message = await self.ws.receive()
        if message.type is WSMsgType.TEXT or message.type is WSMsgType.BINARY:
            return message.data  # type: ignore[no-any-return]  # str or bytes, by type
        return None  # closed, or an error: aiohttp has closed the socket (1009 when too big)

    async def close(self, code: int, reason: str) -> None:
        # Cancelled by the timeout, aiohttp drops the connection.
        await asyncio.wait_for(self.ws.close(code=code, message=reason.encode()), CLOSE_TIMEOUT)
