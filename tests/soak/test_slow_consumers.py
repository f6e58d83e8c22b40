"""Three subscribers that never read, under an event flood: bounded RSS, closed with 1008.

Three clients subscribe to ``entries`` and then stop reading; their sockets have a 4 KiB
receive buffer (``SO_RCVBUF``, set before connecting so that the window stays small) and the
client library holds at most one message, so what the server cannot send piles up on the
server. A fourth client reads every event. Four writers then create and delete
:data:`PAIRS` entries with 32 KB bodies over HTTP: 1,000 events of about 32 KB each, to every
subscriber. The send queue of a connection is bounded in bytes (``Limits.send_queue_bytes``,
1 MiB by default): each non-reader must be closed with ``1008``, the server's peak RSS
(``VmHWM``) may grow by at most :data:`PEAK_GROWTH_BOUND_KB` over its RSS before the flood,
and the reading client must get every event and stay connected.

Calibration (2 cores, CPython 3.11; sanic 25.12.1, aiohttp 3.14.5, websockets 17.4), peak
growth during the flood:

- queue bounded in bytes (1 MiB, today's core): 3.7 MB on Sanic, 4.5 MB on aiohttp;
- queue bounded only in frames (1,000, core before the byte bound; measured with
  ``Limits(send_queue_bytes=1 << 40)``): 86.8 MB on Sanic, 87.2 MB on aiohttp, nearly every
  event of the flood held three times.

The bound, 16 MB, fails the frame-only queue fivefold and passes with a margin of 3.5. Each
non-reader still receives what the kernel had buffered (about 95 frames) before the close
frame. The flood is short (about a second) on purpose: a server may drop a client that leaves
its close frame unread for long (Sanic after ``WEBSOCKET_TIMEOUT``, 10 s), and the close code
is read once the flood is over.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections import Counter
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from .conftest import ON_LINUX, SoakServer

pytestmark = [ON_LINUX, pytest.mark.timeout(90)]

PAIRS = 500
WRITERS = 4
BODY = "x" * 32_000
PEAK_GROWTH_BOUND_KB = 16 * 1024
SUBSCRIBE = json.dumps({"type": "subscribe", "id": 1, "resource": "entries"})


async def _subscribed(ws: ClientConnection) -> ClientConnection:
    await ws.send(SUBSCRIBE)
    answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert isinstance(answer.pop("seq"), str)
    assert answer == {"type": "subscribed", "id": 1, "subscription": "s1"}
    return ws


async def _non_reader(server: SoakServer) -> ClientConnection:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port))
    ws = await connect(
        server.ws_url, sock=sock, subprotocols=["tbone.v1"], max_queue=1, max_size=None
    )
    return await _subscribed(ws)


async def _read_events(ws: ClientConnection, kinds: Counter[str]) -> None:
    while True:
        frame: dict[str, Any] = json.loads(await ws.recv())
        assert frame["type"] == "event", frame
        kinds[frame["event"]] += 1


async def _flood(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:

        async def writer() -> None:
            for _ in range(PAIRS // WRITERS):
                made = await http.post("/api/entries", json={"body": BODY})
                assert made.status_code == 201, made.text
                gone = await http.delete(f"/api/entries/{made.json()['id']}")
                assert gone.status_code == 204, gone.text

        await asyncio.gather(*(writer() for _ in range(WRITERS)))


async def _close_code(ws: ClientConnection) -> int | None:
    """Read what the server had sent (the kernel buffered some) until its close frame."""
    while True:
        try:
            await asyncio.wait_for(ws.recv(), 10)
        except ConnectionClosed:
            return ws.close_code


async def test_non_reading_subscribers_are_closed_and_memory_stays_bounded(
    soak_server: SoakServer,
) -> None:
    slow = [await _non_reader(soak_server) for _ in range(3)]
    try:
        async with connect(soak_server.ws_url, subprotocols=["tbone.v1"], max_size=None) as fast:
            await _subscribed(fast)
            kinds: Counter[str] = Counter()
            reader = asyncio.create_task(_read_events(fast, kinds))
            try:
                before = soak_server.rss_kb()
                await _flood(soak_server.url)
                for _ in range(400):  # the reader catches up within seconds
                    if kinds.total() >= 2 * PAIRS or reader.done():
                        break
                    await asyncio.sleep(0.05)
                peak = soak_server.status_kb("VmHWM")
                assert not reader.done(), reader.exception()
            finally:
                reader.cancel()
            assert peak - before < PEAK_GROWTH_BOUND_KB, (
                f"{soak_server.adapter}: peak RSS {peak} KiB, {peak - before} KiB over the "
                f"{before} KiB before the flood"
            )
            assert kinds == {"created": PAIRS, "deleted": PAIRS}
            for ws in slow:
                assert await _close_code(ws) == 1008
            # the reading client is still served, over the socket and over HTTP
            await fast.send(json.dumps({"type": "ping"}))
            assert json.loads(await asyncio.wait_for(fast.recv(), 10)) == {"type": "pong"}
    finally:
        for ws in slow:
            ws.transport.abort()
    async with httpx.AsyncClient(base_url=soak_server.url) as http:
        assert (await http.get("/api/entries")).json()["meta"]["total_count"] == 0
    assert soak_server.stop() == 0, soak_server.log()
    assert "Traceback" not in soak_server.log()
