"""Live queries beyond the realtime kit (``tbone.testing.livekit``, run in test_livekit.py):
snapshot order and bounds, bad hand-off options, the memory history's bounds, indexed matching,
and subscriptions ended by an auth frame."""

from __future__ import annotations

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
