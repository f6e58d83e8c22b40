"""What the Redis Streams channel does beyond the kit: bounds, lost data, URLs, and a client
resuming through an API after its socket dropped (on one server and on a Cluster)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tbone import API, Model, Resource, plugins
from tbone.channel import connect_channel
from tbone.http import Request
from tbone.realtime import Session
from tbone_redis import RedisChannel, RedisStreamsChannel
from tbone_redis.testing import RedisClusterServer, RedisServer, skip_unless_restartable


def _streams(url: str, **options: Any) -> RedisStreamsChannel:
    return RedisStreamsChannel(url.replace("redis://", "redis+streams://", 1), **options)


@pytest.fixture(params=["standalone", "cluster"])
def url(request: pytest.FixtureRequest) -> str:
    fixture = "redis_server" if request.param == "standalone" else "redis_cluster"
    server: RedisServer | RedisClusterServer = request.getfixturevalue(fixture)
    return server.url


@pytest.mark.parametrize("scheme", ["redis+streams", "rediss+streams"])
def test_both_schemes_find_the_streams_channel(scheme: str) -> None:
    assert plugins.load("channel", scheme) is RedisStreamsChannel
    channel = connect_channel(f"{scheme}://h:6379/0?history=50&history_age=9&socket_timeout=3")
    assert isinstance(channel, RedisStreamsChannel)
    assert (channel.history, channel.history_age) == (50, 9.0)
    assert channel.keeps_history


def test_a_history_of_nothing_is_refused_with_the_way_out() -> None:
    with pytest.raises(ValueError, match="redis://"):
        RedisStreamsChannel("redis+streams://h/0?history=0")


async def test_the_pubsub_channel_keeps_no_history(redis_server: RedisServer) -> None:
    async with RedisChannel(redis_server.url) as channel:
        assert not channel.keeps_history
        assert await channel.head("t") is None
        assert await channel.since("t", "anything") is None


async def test_the_count_bound_trims_and_since_says_so(url: str) -> None:
    async with _streams(url, prefix="count:", history=3) as channel:
        start = await channel.head("t")
        assert start is not None
        for i in range(300):  # MAXLEN ~ trims whole nodes of 100 entries
            await channel.publish("t", str(i).encode())
        assert await channel.since("t", start) is None
        recent = await channel.head("t")
        assert recent is not None
        await channel.publish("t", b"last")
        assert [m.data for m in await channel.since("t", recent) or []] == [b"last"]


async def test_the_age_bound_answers_none_for_what_is_older(url: str) -> None:
    async with _streams(url, prefix="age:", history_age=0.3) as channel:
        start = await channel.head("t")
        assert start is not None
        await channel.publish("t", b"old")
        assert [m.data for m in await channel.since("t", start) or []] == [b"old"]
        await asyncio.sleep(0.4)
        assert await channel.since("t", start) is None
        head = await channel.head("t")
        assert head is not None
        assert await channel.since("t", head) == []


async def test_positions_from_before_the_data_was_lost_answer_none(
    redis_server: RedisServer,
) -> None:
    skip_unless_restartable(redis_server)
    async with _streams(redis_server.url, prefix="lost:") as channel:
        await channel.publish("t", b"x")
        before = await channel.head("t")
        assert before is not None
        await asyncio.to_thread(redis_server.restart)  # nothing is persisted
        for _ in range(100):
            try:
                await channel.publish("t", b"y")
                break
            except Exception:  # the client reconnects on a later attempt
                await asyncio.sleep(0.05)
        assert await channel.since("t", before) is None  # a new epoch: resync


async def test_a_position_of_another_topic_or_server_is_foreign(url: str) -> None:
    async with _streams(url, prefix="foreign:") as channel:
        await channel.publish("a", b"x")
        a = await channel.head("a")
        assert a is not None
        await channel.publish("b", b"y")
        assert await channel.since("b", a) is None  # another topic's epoch
        epoch, number, entry = a.split(".")
        assert await channel.since("a", f"{epoch}.{int(number) + 5}.{entry}") is None


class Book(Model):
    title: str
    author: str
    year: int | None = None


class BookResource(Resource[Book]):
    model = Book
    name = "books"
    filter_fields = {"author": ["exact"]}


class _Peer:
    """The client end of a sans-io session."""

    def __init__(self, api: API) -> None:
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        request = Request("GET", "/api/ws", "", {})
        self.session: Session = api.open_session(request, send=self._send, close=self._close)

    async def _send(self, text: str) -> None:
        await self.frames.put(json.loads(text))

    async def _close(self, code: int, reason: str) -> None:
        pass

    async def call(self, frame: dict[str, Any]) -> dict[str, Any]:
        await self.session.receive(json.dumps(frame))
        return await self.next()

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.frames.get(), 5)


async def _connect(api: API) -> _Peer:
    peer = _Peer(api)
    assert await peer.session.start()
    return peer


@pytest.fixture
async def api(url: str) -> AsyncIterator[API]:
    api = API(channel=_streams(url, prefix=f"api-{id(url)}:"))
    api.register(BookResource)
    async with api:
        yield api


HERBERT = {"type": "subscribe", "id": 1, "resource": "books", "filter": {"author": "Herbert"}}


async def test_a_client_resumes_after_its_seq_and_misses_nothing(api: API) -> None:
    books = api.resource("books")
    first = await _connect(api)
    await first.call(HERBERT)
    dune = await books.create({"title": "Dune", "author": "Herbert"})
    seq = (await first.next())["seq"]
    await first.session.finish()  # the socket drops; writes go on
    await books.update(dune.id, {"year": 1965})
    await books.create({"title": "Emma", "author": "Austen"})
    await books.create({"title": "Children of Dune", "author": "Herbert"})
    again = await _connect(api)
    answer = await again.call({**HERBERT, "after": seq})
    assert answer.get("resync") is None
    missed = [await again.next(), await again.next()]
    assert [(e["event"], e["data"]["title"]) for e in missed] == [
        ("updated", "Dune"),
        ("created", "Children of Dune"),
    ]
    assert missed[0]["seq"] != missed[1]["seq"]
    await books.update(dune.id, {"year": 1966})
    live = await again.next()
    assert (live["event"], live["data"]["year"]) == ("updated", 1966)  # and live from there


async def test_a_foreign_seq_answers_resync_and_goes_live(api: API) -> None:
    peer = await _connect(api)
    answer = await peer.call({**HERBERT, "after": "0123456789abcdef.1.1-0"})
    assert answer["resync"] is True
    await api.resource("books").create({"title": "Dune", "author": "Herbert"})
    assert (await peer.next())["event"] == "created"
