"""A closed WebSocket leaves nothing behind: its aiohttp response and TBone session are freed.

The in-process counterpart of tests/soak (which measures the server's RSS over 5,000 cycles);
tbone-sanic has the same test for the Sanic objects, which Sanic's timeout check used to hold.
"""

from __future__ import annotations

import asyncio
import gc
import json

from aiohttp import web
from websockets.asyncio.client import connect

from tbone.realtime import Session
from tbone.testing.transport import build_api
from tbone_aiohttp import AiohttpTransport


def _alive() -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, web.WebSocketResponse | Session))


async def test_closed_websockets_are_freed_at_once() -> None:
    async with AiohttpTransport().serving(build_api()) as (host, port):
        before = _alive()
        for _ in range(3):
            async with connect(f"ws://{host}:{port}/api/ws", subprotocols=["tbone.v1"]) as ws:
                await ws.send(json.dumps({"type": "subscribe", "id": 1, "resource": "books"}))
                assert json.loads(await ws.recv())["type"] == "subscribed"
        for _ in range(40):  # the server sees each close a moment after the client does
            if _alive() <= before:
                break
            await asyncio.sleep(0.05)
        assert _alive() <= before
