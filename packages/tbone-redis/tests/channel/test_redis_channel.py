"""What the Redis channel does beyond the kit: shared connection, isolation, errors."""

from __future__ import annotations

import asyncio
import socket

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from tbone import plugins
from tbone.channel import connect_channel
from tbone.errors import ChannelUnavailable
from tbone_redis import RedisChannel
from tbone_redis._errors import safe_url
from tbone_redis.testing import RedisServer, skip_unless_restartable


async def _numsub(url: str, topic: str) -> int:
    client = Redis.from_url(url)
    try:
        [(_, count)] = await client.pubsub_numsub(topic)
        return int(count)
    finally:
        await client.aclose()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("scheme", ["redis", "rediss"])
def test_both_schemes_find_the_channel(scheme: str) -> None:
    assert plugins.load("channel", scheme) is RedisChannel
    assert isinstance(connect_channel(f"{scheme}://localhost:6379/0"), RedisChannel)


async def test_subscriptions_share_one_connection_and_count_topics(
    redis_server: RedisServer,
) -> None:
    async with RedisChannel(redis_server.url, prefix="share:") as channel:
        first = await channel.subscribe("t")
        second = await channel.subscribe("t")
        other = await channel.subscribe("o")
        assert await _numsub(redis_server.url, "share:t") == 1  # one connection subscribed
        await first.aclose()
        assert await _numsub(redis_server.url, "share:t") == 1  # still one subscriber left
        await channel.publish("t", b"m")
        assert await asyncio.wait_for(second.get(), 5) == b"m"
        await second.aclose()
        await other.aclose()
        for _ in range(50):  # UNSUBSCRIBE is sent without waiting for its reply
            if await _numsub(redis_server.url, "share:t") == 0:
                break
            await asyncio.sleep(0.02)
        assert await _numsub(redis_server.url, "share:t") == 0


async def test_two_channel_objects_talk_like_two_processes(redis_server: RedisServer) -> None:
    async with (
        RedisChannel(redis_server.url) as worker_a,
        RedisChannel(redis_server.url) as worker_b,
        await worker_b.subscribe("books") as sub,
    ):
        await worker_a.publish("books", b'{"event":"created"}')
        assert await asyncio.wait_for(sub.get(), 5) == b'{"event":"created"}'


async def test_prefix_separates_apis_sharing_a_server(redis_server: RedisServer) -> None:
    async with (
        RedisChannel(redis_server.url, prefix="a:") as api_a,
        RedisChannel(redis_server.url, prefix="b:") as api_b,
    ):
        sub_b = await api_b.subscribe("books")
        await api_a.publish("books", b"for a only")
        await api_b.publish("books", b"for b")
        assert await asyncio.wait_for(sub_b.get(), 5) == b"for b"
        await sub_b.aclose()


async def test_first_use_opens_the_channel(redis_server: RedisServer) -> None:
    channel = RedisChannel(redis_server.url)
    try:
        sub = await channel.subscribe("lazy")
        await channel.publish("lazy", b"x")
        assert await asyncio.wait_for(sub.get(), 5) == b"x"
    finally:
        await channel.aclose()
        await channel.aclose()  # idempotent


async def test_unreachable_server_raises_channel_unavailable_from_the_driver_error() -> None:
    channel = RedisChannel(f"redis://:secret@127.0.0.1:{_closed_port()}/0")
    with pytest.raises(ChannelUnavailable, match="could not connect") as info:
        await channel.publish("t", b"x")
    assert isinstance(info.value.__cause__, RedisError | OSError)
    assert "secret" not in str(info.value)
    await channel.aclose()


async def test_subscribe_while_the_server_is_down_times_out(redis_server: RedisServer) -> None:
    skip_unless_restartable(redis_server)
    assert redis_server.binary is not None
    with RedisServer(redis_server.binary) as server:
        channel = RedisChannel(server.url, subscribe_timeout=0.3)
        async with channel:
            await asyncio.to_thread(server.stop)
            with pytest.raises(ChannelUnavailable, match="could not subscribe"):
                await channel.subscribe("t")
            with pytest.raises(ChannelUnavailable, match="could not publish"):
                await channel.publish("t", b"x")
            await asyncio.to_thread(server.start)
            channel.subscribe_timeout = 10  # the reader may be in its backoff pause
            async with await channel.subscribe("t") as sub:  # the channel came back by itself
                await channel.publish("t", b"back")
                assert await asyncio.wait_for(sub.get(), 5) == b"back"


async def test_close_ends_waiting_readers(redis_server: RedisServer) -> None:
    channel = RedisChannel(redis_server.url)
    await channel.open()
    sub = await channel.subscribe("end")
    waiting = asyncio.create_task(sub.get())
    await asyncio.sleep(0.05)
    await channel.aclose()
    with pytest.raises(ChannelUnavailable):
        await asyncio.wait_for(waiting, 5)
    with pytest.raises(ChannelUnavailable, match="closed"):
        await channel.open()


def test_safe_url_masks_the_password() -> None:
    assert safe_url("redis://user:pw@host:6380/1") == "redis://user:***@host:6380/1"
    assert safe_url("redis://host/0") == "redis://host/0"


async def test_close_fails_a_subscribe_still_waiting(redis_server: RedisServer) -> None:
    skip_unless_restartable(redis_server)
    assert redis_server.binary is not None
    with RedisServer(redis_server.binary) as server:
        channel = RedisChannel(server.url)
        await channel.open()
        await asyncio.to_thread(server.stop)
        waiting = asyncio.create_task(channel.subscribe("never"))
        await asyncio.sleep(0.1)
        await channel.aclose()
        with pytest.raises(ChannelUnavailable):
            await asyncio.wait_for(waiting, 5)
