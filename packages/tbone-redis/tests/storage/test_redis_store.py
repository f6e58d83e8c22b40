"""What the Redis store does beyond the kit: URLs, isolation, atomicity, outages, errors."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from uuid import uuid4

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

import tbone
from tbone import plugins
from tbone.data import Model, field, version_of
from tbone.errors import Conflict, DuplicateKey, StoreUnavailable
from tbone_redis import RedisStore
from tbone_redis.testing import RedisServer, skip_unless_restartable


class Account(Model):
    id: int = field(primary_key=True)
    email: str | None = field(default=None, unique=True)
    score: float = 0.0


@pytest.fixture
async def store(redis_server: RedisServer) -> AsyncIterator[RedisStore]:
    async with RedisStore(redis_server.url, prefix=f"t:{uuid4().hex}:") as opened:
        yield opened


@pytest.mark.parametrize("scheme", ["redis", "rediss"])
def test_both_schemes_find_the_store(scheme: str) -> None:
    assert plugins.load("backend", scheme) is RedisStore


def test_connect_takes_the_prefix_out_of_the_url() -> None:
    store = tbone.connect("redis://h:6380/2?prefix=app:&socket_timeout=3")
    assert isinstance(store, RedisStore)
    assert store.prefix == "app:"
    assert store.url == "redis://h:6380/2?socket_timeout=3"
    assert RedisStore.from_url("redis://h/0").prefix == "tbone:"


async def test_prefixes_keep_stores_apart(redis_server: RedisServer) -> None:
    async with (
        RedisStore(redis_server.url, prefix=f"a{uuid4().hex}:") as a,
        RedisStore(redis_server.url, prefix=f"b{uuid4().hex}:") as b,
    ):
        await a.collection(Account).insert(Account(id=1, email="x@example.com"))
        await b.collection(Account).insert(Account(id=1, email="x@example.com"))
        assert await a.collection(Account).count() == 1
        assert await b.collection(Account).count() == 1


async def test_keys_are_laid_out_as_documented(
    store: RedisStore, redis_server: RedisServer
) -> None:
    await store.collection(Account, "accounts").insert(Account(id=7, email="e@example.com"))
    client = Redis.from_url(redis_server.url)
    try:
        base = f"{store.prefix}{{accounts}}:"
        assert await client.hget(f"{base}docs", "7") is not None
        assert await client.hget(f"{base}versions", "7") == b"1"
        assert await client.hget(f"{base}unique:email", '"e@example.com"') == b"7"
    finally:
        await client.aclose()


async def test_integer_and_string_keys_differ(store: RedisStore) -> None:
    class Named(Model):
        id: str = field(primary_key=True)

    await store.collection(Account, "mixed").insert(Account(id=1))
    await store.collection(Named, "mixed").insert(Named(id="1"))  # "1" is not 1
    assert await store.collection(Account, "mixed").count() == 2


async def test_concurrent_writers_with_one_version_one_wins(store: RedisStore) -> None:
    accounts = store.collection(Account)
    created = await accounts.insert(Account(id=1))
    version = version_of(created)
    results = await asyncio.gather(
        *(accounts.update(1, {"score": i}, expect_version=version) for i in range(10)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    got = await accounts.get(1)
    assert got is not None
    assert version_of(got) == version + 1


async def test_unique_values_are_freed_by_replace_and_delete(store: RedisStore) -> None:
    accounts = store.collection(Account)
    await accounts.insert(Account(id=1, email="a@example.com"))
    await accounts.update(1, {"email": "b@example.com"})
    await accounts.insert(Account(id=2, email="a@example.com"))  # freed by the update
    with pytest.raises(DuplicateKey) as info:
        await accounts.insert(Account(id=3, email="b@example.com"))
    assert info.value.field == "email"
    assert "b@example.com" in str(info.value)
    await accounts.delete(1)
    await accounts.insert(Account(id=3, email="b@example.com"))  # freed by the delete


async def test_a_refused_bulk_insert_writes_nothing(store: RedisStore) -> None:
    accounts = store.collection(Account)
    await accounts.insert(Account(id=1, email="taken@example.com"))
    batch = [Account(id=i, email=f"{i}@example.com") for i in range(2, 50)]
    with pytest.raises(DuplicateKey):
        await accounts.insert_many([*batch, Account(id=99, email="taken@example.com")])
    assert await accounts.count() == 1
    await accounts.insert_many(batch)  # none of their unique values was left behind
    assert await accounts.count() == 49


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_unreachable_server_raises_store_unavailable_from_the_driver_error() -> None:
    store = RedisStore(f"redis://:secret@127.0.0.1:{_closed_port()}/0")
    with pytest.raises(StoreUnavailable, match="could not connect") as info:
        await store.collection(Account).get(1)
    assert isinstance(info.value.__cause__, RedisError | OSError)
    assert "secret" not in str(info.value)
    await store.aclose()
    with pytest.raises(StoreUnavailable, match="closed"):
        await store.collection(Account).get(1)


async def test_the_store_survives_a_server_restart(redis_server: RedisServer) -> None:
    skip_unless_restartable(redis_server)
    assert redis_server.binary is not None
    with RedisServer(redis_server.binary) as server:
        async with RedisStore(server.url) as store:
            accounts = store.collection(Account)
            await accounts.insert(Account(id=1))
            await asyncio.to_thread(server.restart)  # no persistence: the data is gone
            for _ in range(50):  # the pool's connection was dropped: StoreUnavailable until back
                try:
                    await accounts.insert(Account(id=3))  # the scripts are loaded again
                    break
                except StoreUnavailable:
                    await asyncio.sleep(0.1)
            assert [a.id for a in await accounts.find()] == [3]
