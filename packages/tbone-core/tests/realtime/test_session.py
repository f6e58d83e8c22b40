"""The tbone.v1 protocol over a session: requests, subscriptions, events, errors, bounds."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc

import pytest

from tbone import API
from tbone.realtime import CloseCode

from .conftest import Peer, connect


async def test_request_runs_the_http_code_path(api: API) -> None:
    peer = await connect(api)
    created = await peer.call(
        {
            "type": "request",
            "id": 1,
            "method": "POST",
            "path": "/api/books",
            "body": {"title": "Dune", "author": "Herbert"},
        }
    )
    assert created["type"] == "response"
    assert created["id"] == 1
    assert created["status"] == 201
    assert created["headers"]["Location"] == f"/api/books/{created['body']['id']}"
    listed = await peer.call(
        {"type": "request", "id": "two", "method": "GET", "path": "/api/books?author=Herbert"}
    )
    assert listed["id"] == "two"
    assert [b["title"] for b in listed["body"]["objects"]] == ["Dune"]
    bad = await peer.call(
        {"type": "request", "id": 3, "method": "POST", "path": "/api/books", "body": {"title": ""}}
    )
    assert bad["status"] == 422
    assert bad["headers"]["Content-Type"] == "application/problem+json"
    assert bad["body"]["errors"]


async def test_ping_pong(api: API) -> None:
    peer = await connect(api)
    assert await peer.call({"type": "ping"}) == {"type": "pong"}


async def test_subscribers_receive_events_for_writes_from_anywhere(api: API) -> None:
    peer = await connect(api)
    sub = await peer.call(
        {"type": "subscribe", "id": 1, "resource": "books", "filter": {"author": "Herbert"}}
    )
    assert isinstance(sub.pop("seq"), str)  # a position to resume after, even with no event
    assert sub == {"type": "subscribed", "id": 1, "subscription": "s1"}
    books = api.resource("books")
    other = await books.create({"title": "Emma", "author": "Austen"})  # filtered out
    dune = await books.create({"title": "Dune", "author": "Herbert"})
    event = await peer.next()
    seq = event.pop("seq")
    assert isinstance(seq, str)
    assert event == {
        "type": "event",
        "subscription": "s1",
        "resource": "books",
        "event": "created",
        "pk": dune.id,
        "data": dune.to_data(),
    }
    assert "cost" not in event["data"]
    await books.update(dune.id, {"year": 1965})
    updated = await peer.next()
    assert (updated["event"], updated["data"]["year"]) == ("updated", 1965)
    assert updated["seq"] != seq
    await books.delete(dune.id)
    deleted = await peer.next()
    assert (deleted["event"], deleted["pk"], deleted["data"]["title"]) == (
        "deleted",
        dune.id,
        "Dune",
    )
    await books.delete(other.id)
    await peer.nothing()


async def test_event_kinds_and_single_object_subscriptions(api: API) -> None:
    peer = await connect(api)
    books = api.resource("books")
    dune = await books.create({"title": "Dune", "author": "Herbert"})
    await peer.call(
        {"type": "subscribe", "id": 1, "resource": "books", "pk": dune.id, "events": ["deleted"]}
    )
    await books.update(dune.id, {"year": 1})
    await books.create({"title": "Other", "author": "Herbert"})
    await books.delete(dune.id)
    event = await peer.next()
    assert (event["event"], event["pk"]) == ("deleted", dune.id)
    await peer.nothing()


async def test_unsubscribe_stops_events(api: API) -> None:
    peer = await connect(api)
    await peer.call({"type": "subscribe", "id": 1, "resource": "books"})
    assert await peer.call({"type": "unsubscribe", "id": 2, "subscription": "s1"}) == {
        "type": "unsubscribed",
        "id": 2,
    }
    await api.resource("books").create({"title": "Dune", "author": "Herbert"})
    await peer.nothing()
    missing = await peer.call({"type": "unsubscribe", "id": 3, "subscription": "s1"})
    assert (missing["type"], missing["status"]) == ("error", 404)


async def test_scope_and_permissions_are_checked_per_subscriber(api: API) -> None:
    alice = await connect(api, query="token=alice-token")
    bob = await connect(api, headers={"Authorization": "Bearer bob-token"})
    anonymous = await connect(api)
    denied = await anonymous.call({"type": "subscribe", "id": 1, "resource": "notes"})
    assert (denied["type"], denied["status"]) == ("error", 401)
    for peer in (alice, bob):
        assert (await peer.call({"type": "subscribe", "id": 1, "resource": "notes"}))[
            "type"
        ] == "subscribed"
    made = await alice.call(
        {
            "type": "request",
            "id": 2,
            "method": "POST",
            "path": "/api/notes",
            "body": {"text": "mine"},
        }
    )
    assert made["status"] == 201
    event = await alice.next()
    assert (event["event"], event["data"]["owner"]) == ("created", "alice")
    await bob.nothing()


async def test_auth_frame_and_bad_credentials(api: API) -> None:
    peer = await connect(api)
    refused = await peer.call({"type": "auth", "id": 1, "token": "wrong"})
    assert (refused["type"], refused["status"]) == ("error", 401)
    assert await peer.call({"type": "auth", "id": 2, "token": "bob-token"}) == {
        "type": "authenticated",
        "id": 2,
    }
    listed = await peer.call({"type": "request", "id": 3, "method": "GET", "path": "/api/notes"})
    assert listed["status"] == 200
    rejected = Peer(api, query="token=wrong")
    assert not await rejected.session.start()
    assert rejected.closed is not None
    assert rejected.closed[0] == CloseCode.UNAUTHORIZED
    assert (await rejected.next())["status"] == 401


@pytest.mark.parametrize(
    ("frame", "frame_id"),
    [
        ("not json", None),
        (b"\x00\x01binary", None),
        ("[1, 2]", None),
        ('{"type": "nope", "id": 7}', 7),
        ('{"type": "subscribe", "resource": "books"}', None),
        ('{"type": "request", "id": true}', None),
        ('{"type": "request", "id": 1, "path": "no-slash"}', 1),
        ('{"type": "request", "id": 1, "path": "/api/books", "headers": {"a": 1}}', 1),
        ('{"type": "subscribe", "id": 1, "resource": "nope"}', 1),
        ('{"type": "subscribe", "id": 1, "resource": "books", "filter": {"title": "x"}}', 1),
        (
            '{"type": "subscribe", "id": 1, "resource": "books", "filter": {"author__where": "x"}}',
            1,
        ),
        (
            '{"type": "subscribe", "id": 1, "resource": "books", "filter": {"author": {"$ne": 1}}}',
            1,
        ),
        ('{"type": "subscribe", "id": 1, "resource": "books", "events": ["exploded"]}', 1),
        ('{"type": "subscribe", "id": 1, "resource": "books", "filter": [1]}', 1),
        ('{"type": "auth", "id": 1}', 1),
        ('{"type": "ping", "x": NaN}', None),
        ("[" * 10_000 + "]" * 10_000, None),
    ],
)
async def test_bad_frames_get_error_frames_and_the_socket_stays_open(
    api: API, frame: str | bytes, frame_id: object
) -> None:
    peer = await connect(api)
    error = await peer.call(frame)  # type: ignore[arg-type]  # raw frames on purpose
    assert error["type"] == "error"
    assert error["id"] == frame_id
    assert 400 <= error["status"] < 500
    assert error["body"]["status"] == error["status"]
    assert peer.closed is None
    assert await peer.call({"type": "ping"}) == {"type": "pong"}


async def test_huge_frames_close_the_socket(api: API) -> None:
    peer = await connect(api)
    await peer.send('{"type":"ping","pad":"' + "x" * (2 << 20) + '"}')
    assert peer.closed is not None
    assert peer.closed[0] == CloseCode.TOO_BIG


async def test_the_frame_limit_counts_utf8_bytes(api: API) -> None:
    limit = api.limits.max_frame_bytes
    head, tail = '{"type":"ping","pad":"', '"}'
    fits = await connect(api)
    exact = head + "x" * (limit - len(head) - len(tail)) + tail
    assert await fits.call(exact) == {"type": "pong"}  # type: ignore[arg-type] # raw frame
    over = await connect(api)
    await over.send(head + "é" * (limit // 2) + tail)  # fewer characters than the limit
    assert over.closed is not None
    assert over.closed[0] == CloseCode.TOO_BIG


async def test_subscription_bound_answers_429(api: API) -> None:
    peer = await connect(api)
    for i in range(5):
        assert (await peer.call({"type": "subscribe", "id": i, "resource": "books"}))[
            "type"
        ] == "subscribed"
    over = await peer.call({"type": "subscribe", "id": 99, "resource": "books"})
    assert (over["type"], over["status"]) == ("error", 429)


async def test_a_client_that_never_reads_is_throttled_then_closed_by_events(api: API) -> None:
    hostile = await connect(api)
    hostile.reading = False
    calm = await connect(api)
    await calm.call({"type": "subscribe", "id": 1, "resource": "books"})

    async def burst() -> None:
        for i in range(10_000):
            await hostile.send({"type": "subscribe", "id": i, "resource": "books"})

    sending = asyncio.create_task(burst())
    await asyncio.sleep(0.1)
    # Its replies fill half the send queue, then the server stops reading it; not closed yet.
    assert not sending.done()
    assert hostile.closed is None
    books = api.resource("books")
    for i in range(60):  # events for its 5 subscriptions cannot wait: the queue overflows
        await books.create({"title": f"Book {i}", "author": "Herbert"})
        await asyncio.sleep(0.01)
        if hostile.closed:
            break
    assert hostile.closed is not None
    assert hostile.closed[0] == CloseCode.POLICY
    await asyncio.wait_for(sending, 5)  # the reader was released when the socket closed
    assert api.hub.subscription_count() == 1
    assert (await calm.next())["event"] == "created"


async def test_a_pipelining_client_that_reads_gets_every_answer(api: API) -> None:
    peer = await connect(api)
    for i in range(2_000):  # 40 times the send queue, sent without waiting for answers
        await peer.send(
            {"type": "ping"} if i % 2 else {"type": "subscribe", "id": i, "resource": "books"}
        )
    answers = [await peer.next() for _ in range(2_000)]
    assert peer.closed is None
    assert sum(a["type"] == "subscribed" for a in answers) == 5
    assert sum(a["type"] == "pong" for a in answers) == 1_000
    assert sum(a["type"] == "error" and a["status"] == 429 for a in answers) == 995


async def test_idle_connections_are_closed() -> None:
    from tbone.realtime import Limits

    from .conftest import make_api

    api = make_api(realtime=Limits(idle_timeout=0.2))
    async with api:
        peer = await connect(api)
        await asyncio.sleep(0.1)
        await peer.send({"type": "ping"})
        await asyncio.sleep(0.15)
        assert peer.closed is None
        await asyncio.sleep(0.3)
        assert peer.closed == (CloseCode.NORMAL, "idle timeout")


async def test_shutdown_closes_sessions_going_away() -> None:
    from .conftest import make_api

    api = make_api()
    async with api:
        peer = await connect(api)
    assert peer.closed is not None
    assert peer.closed[0] == CloseCode.GOING_AWAY


async def test_memory_stays_flat_over_connect_subscribe_disconnect_cycles(api: API) -> None:
    async def cycle() -> None:
        peer = await connect(api)
        await peer.call(
            {"type": "subscribe", "id": 1, "resource": "books", "filter": {"author": "x"}}
        )
        await peer.session.finish()

    for _ in range(100):  # warm up caches and allocator pools
        await cycle()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(1000):
        await cycle()
    await asyncio.sleep(0)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert api.hub.subscription_count() == 0
    assert not api.hub.sessions
    assert after - before < 200_000, f"grew by {after - before} bytes over 1000 cycles"
