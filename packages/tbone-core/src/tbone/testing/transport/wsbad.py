"""WebSocket behaviours for bad input and hostile clients: errors, bounds and close codes.

A bad frame gets an error frame and the socket stays open; a frame over the size limit closes
the socket with 1009; a client that never reads is closed with 1008 while the others keep
getting events. Every behaviour ends by checking the server still serves.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import suppress

from websockets.exceptions import ConnectionClosed

from .wsharness import WsHarness, ws_behaviour

__all__ = ["BAD_FRAMES"]

#: (raw frame, the id the error frame answers to, its status)
BAD_FRAMES: list[tuple[str | bytes, object, int]] = [
    ("not json", None, 400),
    ("", None, 400),
    (b"\x00\x01binary", None, 400),
    (b'{"type": "ping"}', None, 400),  # JSON, but in a binary frame
    ("[1, 2]", None, 400),
    ('"ping"', None, 400),
    ('{"id": 1}', 1, 400),
    ('{"type": "nope", "id": 7}', 7, 400),
    ('{"type": "request", "id": true}', None, 400),
    ('{"type": "request", "id": 1.5}', None, 400),
    ('{"type": "request", "method": "GET", "path": "/api/books"}', None, 400),
    ('{"type": "subscribe", "resource": "books"}', None, 400),
    ('{"type": "unsubscribe", "subscription": "s1"}', None, 400),
    ('{"type": "auth", "token": "alice-token"}', None, 400),
    ('{"type": "request", "id": 1, "path": "no-slash"}', 1, 400),
    ('{"type": "request", "id": 1, "method": 5, "path": "/api/books"}', 1, 400),
    ('{"type": "request", "id": 1, "path": "/api/books", "headers": {"a": 1}}', 1, 400),
    ('{"type": "request", "id": 1, "path": "/api/books", "headers": []}', 1, 400),
    ('{"type": "subscribe", "id": 1, "resource": "nope"}', 1, 404),
    ('{"type": "subscribe", "id": 1, "resource": 5}', 1, 404),
    ('{"type": "subscribe", "id": 1, "resource": "books", "filter": {"title": "x"}}', 1, 400),
    ('{"type": "subscribe", "id": 1, "resource": "books", "filter": {"nope": "x"}}', 1, 400),
    ('{"type": "subscribe", "id": 1, "resource": "books", "filter": {"year": "abc"}}', 1, 400),
    ('{"type": "subscribe", "id": 1, "resource": "books", "filter": {"cost": 1}}', 1, 400),
    ('{"type": "subscribe", "id": 1, "resource": "books", "filter": {"author__where": 1}}', 1, 400),
    (
        '{"type": "subscribe", "id": 1, "resource": "books", "filter": {"author": {"$ne": 1}}}',
        1,
        400,
    ),
    ('{"type": "subscribe", "id": 1, "resource": "books", "filter": {"$where": "1"}}', 1, 400),
    ('{"type": "subscribe", "id": 1, "resource": "books", "filter": [1]}', 1, 400),
    ('{"type": "subscribe", "id": 1, "resource": "books", "events": ["exploded"]}', 1, 400),
    ('{"type": "subscribe", "id": 1, "resource": "books", "events": []}', 1, 400),
    ('{"type": "subscribe", "id": 1, "resource": "books", "events": "created"}', 1, 400),
    ('{"type": "subscribe", "id": 1, "resource": "notes"}', 1, 401),
    ('{"type": "unsubscribe", "id": 1, "subscription": "s999"}', 1, 404),
    ('{"type": "auth", "id": 1}', 1, 400),
    ('{"type": "auth", "id": 1, "token": ""}', 1, 400),
    ('{"type": "auth", "id": 1, "token": "wrong"}', 1, 401),
    ('{"type": "ping", "x": NaN}', None, 400),
    ('{"type": "ping", "x": Infinity}', None, 400),
    ("[" * 100_000 + "]" * 100_000, None, 400),
    ('{"type": "ping"', None, 400),
]


@ws_behaviour("ws_bad_frames")
async def bad_frames(h: WsHarness) -> None:
    async with h.connect() as peer:
        for raw, frame_id, status in BAD_FRAMES:
            error = await peer.call(raw)
            assert (error["type"], error["id"], error["status"]) == ("error", frame_id, status), (
                raw[:80],
                error,
            )
            body = error["body"]
            assert body["status"] == status
            assert body["title"]
            assert "Traceback" not in json.dumps(body)
        await h.wait_subscriptions(0)
    await h.still_serving()


@ws_behaviour("ws_text_frame_not_utf8")
async def text_frame_not_utf8(h: WsHarness) -> None:
    async with h.connect() as peer:  # RFC 6455 §8.1: fail the connection with 1007
        await peer.ws.send(b'{"type": "ping", "x": "\xff"}', text=True)
        code, frames = await peer.closed(wait=3)
        assert (code, frames) == (1007, [])
    await h.still_serving()


@ws_behaviour("ws_frame_size_limit")
async def frame_size_limit(h: WsHarness) -> None:
    limit = h.api.limits.max_frame_bytes
    head, tail = '{"type":"ping","pad":"', '"}'
    exact = head + "x" * (limit - len(head) - len(tail)) + tail
    async with h.connect() as peer:
        assert await peer.call(exact) == {"type": "pong"}  # exactly the limit is allowed
        await peer.send(exact[:-2] + 'x"}')
        code, frames = await peer.closed()
        assert (code, frames) == (1009, [])
    async with h.connect() as peer:
        await peer.send(b"\x00" * (limit + 1))
        code, frames = await peer.closed()
        assert (code, frames) == (1009, [])
    async with h.connect() as peer:  # multi-byte characters count as their UTF-8 bytes
        await peer.send(head + "é" * (limit // 2) + tail)
        code, frames = await peer.closed()
        assert (code, frames) == (1009, [])
    async with h.connect() as peer:
        # The server closes while the client is still sending: a server that drops the
        # connection right after its close frame (aiohttp) resets it under the client's feet.
        with suppress(ConnectionClosed, ConnectionResetError):
            await peer.send(head + "x" * (8 * limit) + tail)
        code, _ = await peer.closed()
        assert code in (1009, 1006), code
    await h.still_serving()


@ws_behaviour("ws_subscribe_burst")
async def subscribe_burst(h: WsHarness) -> None:
    bound = h.api.limits.max_subscriptions
    burst = 10_000
    async with h.connect() as peer:

        async def send_all() -> None:
            for i in range(burst):
                await peer.send({"type": "subscribe", "id": i, "resource": "books"})

        sending = asyncio.create_task(send_all())
        answers = [await peer.next() for _ in range(burst)]
        await sending
        assert [a["id"] for a in answers] == list(range(burst))  # answered in order, none lost
        assert [a["type"] for a in answers[:bound]] == ["subscribed"] * bound
        assert {(a["type"], a["status"]) for a in answers[bound:]} == {("error", 429)}
        await h.wait_subscriptions(bound)
        await peer.ping()
    await h.wait_subscriptions(0)
    await h.still_serving()


@ws_behaviour("ws_client_that_never_reads")
async def client_that_never_reads(h: WsHarness) -> None:
    books = h.api.resource("books")
    big = ["x" * 1000] * 100  # ~100 kB an event: the hostile socket backs up after a few
    async with h.connect(receive_buffer=4096) as hostile, h.connect() as calm:
        await hostile.subscribe("books")
        sub = await calm.subscribe("books")
        sent = 0
        while await h.subscription_count() == 2:  # the hostile socket still subscribed
            assert sent < 2_000, "a client that never reads was never disconnected"
            await h.in_server(lambda: books.create({"title": "Big", "author": "A", "tags": big}))
            sent += 1
            event = await calm.next()
            assert (event["subscription"], event["event"]) == (sub, "created")
        await h.in_server(lambda: books.create({"title": "After", "author": "A"}))
        assert (await calm.next())["data"]["title"] == "After"  # the others keep getting events
        code, frames = await hostile.closed(wait=30)  # now read what piled up: then the close
        assert code == 1008
        assert 0 < len(frames) < sent
        await calm.ping()
    await h.still_serving()


@ws_behaviour("ws_http_to_the_websocket_path")
async def http_to_the_websocket_path(h: WsHarness) -> None:
    for method in ("GET", "POST", "HEAD"):
        response = await h.http.request(method, "/api/ws")
        assert response.status_code == 426, (method, response.text)
        assert response.headers["upgrade"] == "websocket"
        assert response.headers["content-type"] == "application/problem+json"
    await h.still_serving()
