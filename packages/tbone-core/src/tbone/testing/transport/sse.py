"""Fallback behaviours: ``tbone.v1`` over Server-Sent Events + POST, and what bad input gets.

Each runs against a fresh :func:`~tbone.testing.transport.sseharness.build_fallback_api` on a
real server, with ``httpx`` streaming clients; each ends with nothing left on the server.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import httpx

from .harness import PROBLEM_JSON
from .sseharness import FallbackHarness, fallback_behaviour

__all__: list[str] = []

ALICE = {"Authorization": "Bearer alice-token"}
BOB = {"Authorization": "Bearer bob-token"}


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"] == PROBLEM_JSON, response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status, body
    return body


async def _replayable(h: FallbackHarness, position: str) -> bool:
    """Whether the API's channel can replay the events after ``position`` (else: resync)."""

    async def history() -> bool:
        return await h.api.hub.history(position) is not None

    replayable: bool = await h.in_server(history)
    return replayable


@fallback_behaviour("sse_subscribe_by_post_events_by_stream")
async def subscribe_by_post(h: FallbackHarness) -> None:
    async with h.open() as stream:
        assert stream.token
        assert stream.session
        answer = await stream.post(
            [
                {"type": "subscribe", "id": 1, "resource": "books"},
                {"type": "ping"},
                {"type": "request", "id": 2, "method": "GET", "path": "/api/books"},
            ]
        )
        assert answer.status_code == 202, answer.text
        assert answer.json() == {"accepted": 3}
        frames = [await stream.next() for _ in range(3)]
        kinds = sorted(f["type"] for f in frames)
        assert kinds == ["pong", "response", "subscribed"], frames
        created = await h.create("books", {"title": "Dune", "author": "Herbert"})
        event_id, event = await stream.event()
        assert event["event"] == "created", event
        assert event["pk"] == created["id"], event
        assert event_id == event["seq"], "the SSE id is the event's seq"
        assert "cost" not in event["data"]
        await h.http.patch(f"/api/books/{created['id']}", json={"year": 1965})
        assert (await stream.next())["event"] == "updated"
        await h.http.delete(f"/api/books/{created['id']}")
        assert (await stream.next())["event"] == "deleted"
    await h.wait_counts((0, 0, 0))


@fallback_behaviour("sse_authenticates_like_the_websocket")
async def authenticates(h: FallbackHarness) -> None:
    refused = await h.http.get("/api/_stream", headers={"Authorization": "Bearer nope"})
    _problem(refused, 401)
    async with h.open(headers=ALICE) as alice, h.open() as anonymous:
        await alice.subscribe("notes")
        denied = await anonymous.call({"type": "subscribe", "id": 1, "resource": "notes"})
        assert denied["type"] == "error", denied
        assert denied["status"] == 401, denied
        await h.http.post("/api/notes", json={"text": "bob's"}, headers=BOB)
        note = await h.http.post("/api/notes", json={"text": "alice's"}, headers=ALICE)
        event = await alice.next()
        assert event["pk"] == note.json()["id"], "alice hears only her own note"
        auth = await anonymous.call({"type": "auth", "id": 2, "token": "bob-token"})
        assert auth == {"type": "authenticated", "id": 2}
        await anonymous.subscribe("notes", 3)
        await h.http.post("/api/notes", json={"text": "bob again"}, headers=BOB)
        assert (await anonymous.next())["data"]["text"] == "bob again"
    await h.wait_counts((0, 0, 0))


@fallback_behaviour("sse_resume_with_last_event_id")
async def resume_with_last_event_id(h: FallbackHarness) -> None:
    async with h.open() as first:
        await first.subscribe("books")
        await h.create("books", {"title": "One", "author": "A"})
        last_id, _ = await first.event()
    assert last_id is not None
    for title in ("Two", "Three"):  # written while the client is away
        await h.create("books", {"title": title, "author": "A"})
    replayable = await _replayable(h, last_id)
    async with h.resume(first, last_id) as again:
        if replayable:
            titles = [(await again.next())["data"]["title"] for _ in range(2)]
            assert titles == ["Two", "Three"]
        else:  # events of a store's change stream have positions no channel can replay
            resync = await again.next()
            assert resync["event"] == "resync", resync
        await again.nothing()
        await h.create("books", {"title": "Four", "author": "A"})
        assert (await again.next())["data"]["title"] == "Four"
        answer = await again.post({"type": "ping"})
        assert answer.status_code == 202
        assert await again.next() == {"type": "pong"}
    async with h.resume(first, "no-such-position") as lost:
        event = await lost.next()
        assert event["event"] == "resync", event
        assert event["subscription"] == "s1", event
    await h.wait_counts((0, 0, 0))


@fallback_behaviour("sse_resume_without_last_event_id_keeps_what_waited")
async def resume_keeps_pending(h: FallbackHarness) -> None:
    async with h.open() as first:
        await first.subscribe("books")
    await h.create("books", {"title": "Waited", "author": "A"})
    async with h.resume(first) as again:
        assert (await again.next())["data"]["title"] == "Waited"


@fallback_behaviour("sse_reconnect_storm_leaves_one_session")
async def reconnect_storm(h: FallbackHarness) -> None:
    async with h.open() as first:
        await first.subscribe("books")
        await h.create("books", {"title": "One", "author": "A"})
        last_id, _ = await first.event()
        assert last_id is not None
        replayable = await _replayable(h, last_id)
        for _ in range(15):  # each resume replaces the stream before
            async with h.resume(first, last_id) as again:
                if not replayable:
                    assert (await again.next())["event"] == "resync"
                await again.nothing(0.05)
        assert (await h.counts())[:2] == (1, 1)
    await h.wait_counts((0, 0, 0))


@fallback_behaviour("sse_unknown_and_foreign_sessions_are_404")
async def foreign_sessions(h: FallbackHarness) -> None:
    async with h.open(headers=ALICE) as alice, h.open(headers=BOB) as bob:
        ping = {"type": "ping"}
        unknown = await h.http.post(
            "/api/_stream/nope", json=ping, headers={"TBone-Stream-Token": alice.token}
        )
        body = _problem(unknown, 404)
        wrong = await h.http.post(bob.path, json=ping, headers={"TBone-Stream-Token": alice.token})
        assert _problem(wrong, 404) == body, "an id and a wrong token tell nothing apart"
        missing = await h.http.post(bob.path, json=ping)
        assert _problem(missing, 404) == body
        stolen = await h.http.get(bob.path, headers={"TBone-Stream-Token": alice.token})
        assert _problem(stolen, 404) == body
        await bob.nothing()
        await alice.nothing()
        ended = await h.http.delete(alice.path, headers={"TBone-Stream-Token": alice.token})
        assert ended.status_code == 204
        closing = await alice.closed()
        assert closing[-1]["type"] == "close", closing
        assert closing[-1]["code"] == 1000, closing
        _problem(await alice.post(ping), 404)
    _problem(await h.http.put("/api/_stream", json={}), 405)
    _problem(await h.http.get("/api/_stream/a/b"), 404)
    await h.wait_counts((0, 0, 0))


@fallback_behaviour("sse_bad_post_bodies")
async def bad_post_bodies(h: FallbackHarness) -> None:
    async with h.open() as stream:
        cases = [
            (b"not json", "application/json", 400),
            (b"", "application/json", 400),
            (b"[]", "application/json", 400),
            (b'{"type":"ping"}', "text/plain", 415),
            (b"[" + b'{"type":"ping"},' * 200 + b'{"type":"ping"}]', "application/json", 413),
            (b'"' + b"x" * (1 << 20) + b'"', "application/json", 413),
            (b"[" * 200 + b"]" * 200, "application/json", 400),
        ]
        for content, content_type, status in cases:
            answer = await stream.post(
                None, content=content, headers={"Content-Type": content_type}
            )
            _problem(answer, status)
        answer = await stream.post([{"type": "nope", "id": 9}, 3, {"type": "ping"}])
        assert answer.status_code == 202
        errors = [await stream.next() for _ in range(3)]
        assert [f["type"] for f in errors] == ["error", "error", "pong"], errors
        assert errors[0]["id"] == 9
        assert errors[0]["status"] == 400
        bad_id = await h.http.get(
            stream.path, headers={"TBone-Stream-Token": stream.token, "Last-Event-ID": "x" * 500}
        )
        _problem(bad_id, 400)
        await stream.post({"type": "ping"})
        assert await stream.next() == {"type": "pong"}, "the session survived all of it"
    await h.wait_counts((0, 0, 0))


async def _silent_stream(h: FallbackHarness) -> tuple[asyncio.StreamWriter, dict[str, Any]]:
    """A raw connection that opens a stream, reads its first event, then reads nothing more
    (its receive buffer kept small, so that the server's writes back up quickly)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (h.server.host, h.server.port))
    reader, writer = await asyncio.open_connection(sock=sock, limit=1 << 16)
    writer.write(f"GET /api/_stream HTTP/1.1\r\nHost: {h.server.host}\r\n\r\n".encode())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 200"), head
    data = await asyncio.wait_for(reader.readuntil(b"}\n\n"), 10)
    first = json.loads(data[data.index(b"{") :].decode())
    return writer, first


@fallback_behaviour("sse_client_that_never_reads_is_closed")
async def never_reads(h: FallbackHarness) -> None:
    writer, first = await _silent_stream(h)
    try:
        token = {"TBone-Stream-Token": first["token"]}
        frame = {"type": "subscribe", "id": 1, "resource": "books"}
        answer = await h.http.post(first["path"], json=frame, headers=token)
        assert answer.status_code == 202
        big = {"title": "Big", "author": "A", "tags": ["x" * 1000] * 100}  # ~100 KB an event

        async def flood() -> int:
            books = h.api.resource("books")
            for count in range(300):
                if not h.api.streams.sessions:
                    return count
                await books.create(dict(big))
                await asyncio.sleep(0.001)
            return -1

        written = await h.in_server(flood)  # the client reads nothing meanwhile
        assert written > 0, "the server kept a session whose client reads nothing"
        await h.wait_counts((0, 0, 0), wait=20)
    finally:
        writer.close()
    async with h.open() as other:  # the server carries on
        assert await other.call({"type": "ping"}) == {"type": "pong"}
    await h.wait_counts((0, 0, 0))


@fallback_behaviour("sse_disconnect_cleans_up_the_session")
async def disconnect_cleans_up(h: FallbackHarness) -> None:
    async with h.open() as stream:
        await stream.subscribe("books")
        await stream.subscribe("authors", 2)
        assert await h.counts() == (1, 1, 2)
    # the drop is seen at the next keep-alive at the latest; the session waits resume_grace
    await h.wait_counts((0, 0, 0))
    _problem(await stream.post({"type": "ping"}), 404)


@fallback_behaviour("sse_session_cap")
async def session_cap(h: FallbackHarness) -> None:
    cap = h.api.streams.options.max_sessions
    streams = [h.open() for _ in range(cap)]
    opened = [await s.__aenter__() for s in streams]
    try:
        full = await h.http.get("/api/_stream")
        _problem(full, 503)
        assert full.headers["retry-after"]
    finally:
        for s in reversed(streams):
            await s.__aexit__(None, None, None)
    assert len(opened) == cap
    await h.wait_counts((0, 0, 0))


@fallback_behaviour("sse_idle_session_expires")
async def idle_expires(h: FallbackHarness) -> None:
    async with h.open() as stream:
        pass
    await h.wait_counts((0, 0, 0))
    resumed = await h.http.get(stream.path, headers={"TBone-Stream-Token": stream.token})
    _problem(resumed, 404)
