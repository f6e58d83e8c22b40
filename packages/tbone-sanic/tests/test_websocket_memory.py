"""A closed WebSocket's connection objects are freed when it closes, not 30 s later.

Sanic keeps its HTTP timeout check scheduled on an upgraded connection, and that timer holds
the connection's protocol (and the socket, its buffers, the request) until it fires; the adapter
cancels it (``tbone_sanic._bridge._stop_timeout_checks``). tests/soak measures the RSS effect.
"""

from __future__ import annotations

import asyncio
import gc
import json

from sanic.server.protocols.websocket_protocol import WebSocketProtocol
from websockets.asyncio.client import connect

from tbone.realtime import Session
from tbone.testing.transport import build_api
from tbone_sanic import SanicTransport


def _upgraded_connections() -> int:
    """Sanic connections upgraded to WebSockets, and TBone sessions, still in memory."""
    gc.collect()
    return sum(
        1
        for obj in gc.get_objects()
        if isinstance(obj, Session)
        or (isinstance(obj, WebSocketProtocol) and obj.websocket is not None)
    )


async def test_closed_websockets_are_freed_at_once() -> None:
    async with SanicTransport().serving(build_api()) as (host, port):
        before = _upgraded_connections()
        for _ in range(3):
            async with connect(f"ws://{host}:{port}/api/ws", subprotocols=["tbone.v1"]) as ws:
                await ws.send(json.dumps({"type": "ping"}))
                assert json.loads(await ws.recv()) == {"type": "pong"}
        # the server sees each close a moment after the client does; 2 s is ample, and far
        # below the 30 s for which Sanic's timer would keep them
        for _ in range(40):
            if _upgraded_connections() <= before:
                break
            await asyncio.sleep(0.05)
        assert _upgraded_connections() <= before
