"""What the Redis Streams channel does beyond the kits: bounds, lost data, URLs (on one server
and on a Cluster). Resuming through an API is the realtime kit's (test_livekit.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tbone import plugins
from tbone.channel import connect_channel
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
