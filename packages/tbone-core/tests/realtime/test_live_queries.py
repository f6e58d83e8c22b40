"""Live queries: entered/left, snapshots handed over to live events, and resume after a seq."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tbone import API, BearerToken

from .conftest import TOKENS, NoteResource, connect
from .conftest import BookResource as BaseBooks


class BookResource(BaseBooks):
    order_fields = ("title", "year")
    max_page_size = 50


@pytest.fixture
async def api() -> AsyncIterator[API]:
    api = API(authenticator=BearerToken(TOKENS))
    api.register(BookResource)
    api.register(NoteResource)
    async with api:
        yield api


HERBERT = {"type": "subscribe", "id": 1, "resource": "books", "filter": {"author": "Herbert"}}


async def test_an_update_moving_an_object_out_of_view_sends_left_and_back_entered(
    api: API,
) -> None:
    peer = await connect(api)
    await peer.call(HERBERT)
    books = api.resource("books")
    dune = await books.create({"title": "Dune", "author": "Herbert"})
    assert (await peer.next())["event"] == "created"
    await books.update(dune.id, {"author": "Someone else"})
    left = await peer.next()
    assert (left["event"], left["pk"]) == ("left", dune.id)
    assert "data" not in left  # never the new data: it is no longer the subscriber's
    await books.update(dune.id, {"year": 1965})  # out of view, stays out: nothing
    await books.update(dune.id, {"author": "Herbert"})
    entered = await peer.next()
    assert (entered["event"], entered["data"]["year"]) == ("entered", 1965)
    await peer.nothing()


async def test_old_clients_listing_events_get_no_entered_or_left(api: API) -> None:
    peer = await connect(api)
    await peer.call({**HERBERT, "events": ["created", "updated", "deleted"]})
    books = api.resource("books")
    dune = await books.create({"title": "Dune", "author": "Herbert"})
    await peer.next()
    await books.update(dune.id, {"author": "X"})
    await peer.nothing()


async def test_a_snapshot_answers_the_view_and_its_position(api: API) -> None:
    books = api.resource("books")
    for title, author in [("Dune", "Herbert"), ("Emma", "Austen"), ("Whipping Star", "Herbert")]:
        await books.create({"title": title, "author": author})
    peer = await connect(api)
    answer = await peer.call({**HERBERT, "snapshot": True, "order_by": "-title", "limit": 5})
    assert answer["type"] == "subscribed"
    assert [o["title"] for o in answer["objects"]] == ["Whipping Star", "Dune"]
    assert isinstance(answer["seq"], str)
    over = await peer.call({**HERBERT, "id": 2, "snapshot": True, "limit": 500})
    assert (over["type"], over["status"]) == ("error", 400)  # bounded like the list endpoint


async def test_no_event_is_lost_or_repeated_between_snapshot_and_live(api: API) -> None:
    books = api.resource("books")
    created = [await books.create({"title": f"b{i}", "author": "Herbert"}) for i in range(20)]
    stop = asyncio.Event()

    async def writer() -> None:
        n = 0
        while not stop.is_set():
            book = created[n % len(created)]
            await books.update(book.id, {"year": n})
            n += 1
            await asyncio.sleep(0)

    writing = [asyncio.create_task(writer()) for _ in range(3)]
    try:
        peers = []
        for i in range(10):  # subscribe while the writers run
            peer = await connect(api)
            answer = await peer.call({**HERBERT, "snapshot": True, "limit": 50})
            peers.append((peer, {o["id"]: o["year"] for o in answer["objects"]}))
            await asyncio.sleep(0.001 * i)
    finally:
        stop.set()
        await asyncio.gather(*writing)
    truth = {b.id: b.year for b in await books.collection.find(limit=100)}
    for peer, view in peers:
        while True:  # apply every event after the snapshot, in order
            try:
                event = await peer.next(wait=0.3)
            except TimeoutError:
                break
            assert event["event"] == "updated"
            view[event["pk"]] = event["data"]["year"]
        assert view == truth  # the snapshot plus the events is exactly the data


async def test_resume_after_a_seq_replays_what_was_missed_as_the_subscriber_sees_it(
    api: API,
) -> None:
    books = api.resource("books")
    first = await connect(api)
    await first.call(HERBERT)
    dune = await books.create({"title": "Dune", "author": "Herbert"})
    seq = (await first.next())["seq"]
    await first.session.finish()  # the socket drops
    await books.update(dune.id, {"year": 1965})
    await books.create({"title": "Emma", "author": "Austen"})  # not in the view
    await books.update(dune.id, {"author": "Someone"})
    again = await connect(api)
    answer = await again.call({**HERBERT, "after": seq})
    assert answer == {"type": "subscribed", "id": 1, "subscription": "s1"}
    missed = [await again.next(), await again.next()]
    assert [(e["event"], e["pk"]) for e in missed] == [("updated", dune.id), ("left", dune.id)]
    await books.update(dune.id, {"author": "Herbert"})
    assert (await again.next())["event"] == "entered"  # and live from there
    await again.nothing()


@pytest.mark.parametrize(
    "after", ["nonsense", "ffffffff.1", "0" * 200, "deadbeef.99999999999999999999"]
)
async def test_positions_the_history_does_not_cover_answer_resync(api: API, after: str) -> None:
    peer = await connect(api)
    answer = await peer.call({**HERBERT, "after": after})
    assert answer["resync"] is True
    dune = await api.resource("books").create({"title": "Dune", "author": "Herbert"})
    assert (await peer.next())["pk"] == dune.id  # the subscription is live all the same


async def test_resync_with_snapshot_answers_objects(api: API) -> None:
    await api.resource("books").create({"title": "Dune", "author": "Herbert"})
    peer = await connect(api)
    answer = await peer.call({**HERBERT, "after": "ffffffff.1", "snapshot": True})
    assert answer["resync"] is True
    assert [o["title"] for o in answer["objects"]] == ["Dune"]


@pytest.mark.parametrize(
    "extra",
    [{"after": 5}, {"after": ""}, {"after": "x" * 201}, {"snapshot": "yes"}, {"limit": "5"}],
)
async def test_bad_hand_off_options_are_400(api: API, extra: dict[str, Any]) -> None:
    peer = await connect(api)
    answer = await peer.call({**HERBERT, "snapshot": True, **extra})
    assert (answer["type"], answer["status"]) == ("error", 400)
    assert await peer.call({"type": "ping"}) == {"type": "pong"}
    assert api.hub.subscription_count() == 0


async def test_a_history_bounded_by_count_answers_resync_past_it() -> None:
    api = API(channel="memory://?history=3")
    api.register(BookResource)
    async with api:
        books = api.resource("books")
        peer = await connect(api)
        await peer.call(HERBERT)
        await books.create({"title": "Dune", "author": "Herbert"})
        seq = (await peer.next())["seq"]
        for i in range(5):
            await books.create({"title": f"b{i}", "author": "Herbert"})
        again = await connect(api)
        assert (await again.call({**HERBERT, "after": seq}))["resync"] is True


async def _ctx(api: API, token: str) -> Any:
    from tbone.http import Request

    request = Request("GET", "/", "", {"authorization": f"Bearer {token}"})
    return await api.resource("notes").context(request, "http")


async def test_matching_is_indexed_a_write_tests_only_the_subscriptions_it_concerns(
    api: API, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tbone.realtime.live import LiveSubscription

    peers = []
    for i in range(200):  # distinct equality filters: only one concerns each write
        peer = await connect(api)
        await peer.call({**HERBERT, "filter": {"author": f"author-{i}"}})
        peers.append(peer)
    ranged = await connect(api)  # not indexable: tested on every write
    await ranged.call({**HERBERT, "filter": {"year__gte": 1900}})
    tested: list[str] = []
    kind_of = LiveSubscription.kind_of

    def counting(self: LiveSubscription, *args: Any) -> str | None:
        tested.append(self.id)
        return kind_of(self, *args)

    monkeypatch.setattr(LiveSubscription, "kind_of", counting)
    books = api.resource("books")
    book = await books.create({"title": "T", "author": "author-7", "year": 1950})
    assert (await peers[7].next())["event"] == "created"
    assert (await ranged.next())["event"] == "created"
    assert len(tested) == 2
    tested.clear()
    await books.update(book.id, {"author": "author-9"})  # before and after values both count
    assert (await peers[7].next())["event"] == "left"
    assert (await peers[9].next())["event"] == "entered"
    assert len(tested) == 3
    for peer in (*peers[:7], *peers[10:20]):
        await peer.nothing(within=0.01)


class AliceOnly:
    async def allows(self, ctx: Any, action: str, obj: Any = None) -> bool:
        return ctx.user == "alice"


async def test_an_auth_frame_ends_subscriptions_the_new_identity_may_not_have() -> None:
    class Secrets(BookResource):
        name = "secrets"
        permissions = (AliceOnly(),)

    api = API(authenticator=BearerToken(TOKENS))
    api.register(BookResource)
    api.register(Secrets)
    async with api:
        peer = await connect(api, query="token=alice-token")
        assert (await peer.call({"type": "subscribe", "id": 1, "resource": "secrets"}))[
            "subscription"
        ] == "s1"
        await peer.call({"type": "subscribe", "id": 2, "resource": "books"})
        await peer.session.receive('{"type":"auth","id":3,"token":"bob-token"}')
        ended = await peer.next()
        assert (ended["type"], ended["status"], ended["subscription"]) == ("error", 403, "s1")
        assert (await peer.next())["type"] == "authenticated"
        await api.resource("secrets").create({"title": "x", "author": "y"})
        await api.resource("books").create({"title": "x", "author": "y"})
        assert (await peer.next())["resource"] == "books"  # s2 lives on, s1 ended
        await peer.nothing()


async def test_the_memory_history_is_bounded_in_bytes() -> None:
    from tbone.channel import MemoryChannel

    channel = MemoryChannel("memory://?history_bytes=10000")
    async with channel:
        first = await channel.head("t")
        for _ in range(90):
            await channel.publish("t", b"x" * 1000)
        ninetieth = await channel.head("t")
        for _ in range(10):
            await channel.publish("t", b"y" * 1000)
        assert first is not None
        assert ninetieth is not None
        kept = await channel.since("t", ninetieth)
        assert kept is not None
        assert [m.data for m in kept] == [b"y" * 1000] * 10  # the last 10 KB are kept
        assert await channel.since("t", first) is None  # the start fell out: resync
