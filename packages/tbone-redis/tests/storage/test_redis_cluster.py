"""The Redis store on a Redis Cluster, beyond the kit: where the keys live, outages, a slot
that moves to another node, scripts the nodes forgot."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from uuid import uuid4

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from tbone.data import Model, field
from tbone.errors import NotFound, StoreUnavailable
from tbone.storage import CollectionSpec, Page
from tbone_redis import RedisStore
from tbone_redis.testing import RedisClusterServer, skip_unless_restartable

from .indexcheck import assert_indexes_exact


class Book(Model):
    id: int = field(primary_key=True)
    year: int | None = field(default=None, index=True)
    isbn: str | None = field(default=None, unique=True)


def _books(n: int) -> list[Book]:
    return [Book(id=i, year=1900 + i % 10, isbn=f"i{i}") for i in range(n)]


@pytest.fixture
async def cluster_client(redis_cluster: RedisClusterServer) -> AsyncIterator[RedisCluster]:
    client = RedisCluster.from_url(redis_cluster.url)
    await client.initialize()
    yield client
    await client.aclose()


@pytest.fixture
def own_cluster(redis_cluster: RedisClusterServer) -> Iterator[RedisClusterServer]:
    """A cluster of this test's own, which it may stop, restart and reshard."""
    skip_unless_restartable(redis_cluster)
    with RedisClusterServer.from_environment() as cluster:
        yield cluster


def _elsewhere(client: RedisCluster, name: str) -> str:
    """A collection name whose keys are on another node than ``name``'s."""
    home = client.get_node_from_key(f"{{{name}}}").name
    for i in range(1000):
        other = f"{name}{i}"
        if client.get_node_from_key(f"{{{other}}}").name != home:
            return other
    raise AssertionError("every name hashed to one node")  # pragma: no cover


async def test_a_collection_is_one_slot_and_two_collections_are_two(
    redis_cluster: RedisClusterServer, cluster_client: RedisCluster
) -> None:
    other = _elsewhere(cluster_client, "book")
    async with RedisStore(redis_cluster.url, prefix=f"slots:{uuid4().hex}:") as store:
        assert store.cluster
        await store.collection(Book).insert_many(_books(30))
        await store.collection(Book, other).insert_many(_books(30))
        keys = [k.decode() async for k in cluster_client.scan_iter(match=f"{store.prefix}*")]
    slots: dict[str, set[int]] = {"book": set(), other: set()}
    for key in keys:  # the server's own CLUSTER KEYSLOT, not our idea of it
        slots[key.split("{")[1].split("}")[0]].add(await cluster_client.cluster_keyslot(key))
    assert len(keys) > 2 * 5
    assert any(":ix:" in k for k in keys)
    assert len(slots["book"]) == 1
    assert len(slots[other]) == 1
    assert slots["book"] != slots[other]
    nodes = {cluster_client.get_node_from_key(f"{{{n}}}").name for n in slots}
    assert len(nodes) == 2, "the two collections are served by two nodes"


async def _eventually(action: Callable[[], Awaitable[Any]], seconds: float = 30.0) -> Any:
    """``action()``'s result once it stops raising ``StoreUnavailable`` (any other error, or
    none within ``seconds``, fails the test)."""
    async with asyncio.timeout(seconds):
        while True:
            try:
                return await action()
            except StoreUnavailable:
                await asyncio.sleep(0.1)


async def test_the_store_survives_a_cluster_restart(own_cluster: RedisClusterServer) -> None:
    async with RedisStore(own_cluster.url) as store:
        books = store.collection(Book)
        await books.insert_many(_books(20))
        await asyncio.to_thread(own_cluster.stop)
        for down in (books.find(year=1901), books.get(1), books.insert(Book(id=99)),
                     books.count(), books.delete(1)):  # fmt: skip
            with pytest.raises(StoreUnavailable, match="could not"):
                async with asyncio.timeout(30):
                    await down
        await asyncio.to_thread(own_cluster.start)  # no persistence: the data is gone
        await _eventually(lambda: books.insert(Book(id=3, year=1903)))  # scripts loaded again
        assert [b.id for b in await books.find(year=1903)] == [3]
        assert [b.id for b in await books.find()] == [3]


async def test_scripts_the_nodes_forgot_are_loaded_again(own_cluster: RedisClusterServer) -> None:
    async with RedisStore(own_cluster.url) as store:
        books = store.collection(Book)
        await books.insert(Book(id=1, year=1901))
        for node in own_cluster.nodes:
            async with Redis.from_url(node.url) as client:
                await client.script_flush()
        await books.insert(Book(id=2, year=1901))  # NOSCRIPT: SCRIPT LOAD, then EVALSHA again
        assert [b.id for b in await books.find(year=1901)] == [1, 2]


class _Migration:
    """Moves the slot of ``key`` with its keys to another node, as ``redis-cli --cluster
    reshard`` does: ``start()`` marks it MIGRATING/IMPORTING and moves the keys (the old node
    answers ASK), ``finish()`` gives the slot to the new node (the old one answers MOVED)."""

    def __init__(self, cluster: RedisClusterServer, key: str) -> None:
        self.clients = [Redis.from_url(node.url) for node in cluster.nodes]
        self.key = key
        self.slot = 0
        self.ids: list[bytes] = []
        self.source = self.target = self.clients[0]

    async def start(self, keys: Callable[[str], bool] = lambda key: True) -> None:
        """Mark the slot migrating and move its ``keys`` (all of them by default)."""
        self.slot = await self.clients[0].execute_command("CLUSTER KEYSLOT", self.key)
        self.ids = [await c.execute_command("CLUSTER MYID") for c in self.clients]
        owners = [c for c in self.clients if self.slot in await _slots_of(c)]
        self.source = owners[0]
        self.target = next(c for c in self.clients if c is not self.source)
        source_id, target_id = self._id(self.source), self._id(self.target)
        await self.target.execute_command("CLUSTER SETSLOT", self.slot, "IMPORTING", source_id)
        await self.source.execute_command("CLUSTER SETSLOT", self.slot, "MIGRATING", target_id)
        await self.move(keys)

    async def move(self, keys: Callable[[str], bool] = lambda key: True) -> None:
        port = self.target.connection_pool.connection_kwargs["port"]
        found = await self.source.execute_command("CLUSTER GETKEYSINSLOT", self.slot, 10_000)
        if chosen := [key for key in found if keys(key)]:
            await self.source.execute_command(
                "MIGRATE", "127.0.0.1", port, "", 0, 5000, "KEYS", *chosen
            )

    async def finish(self) -> None:
        rest = [c for c in self.clients if c not in (self.source, self.target)]
        for c in (self.target, self.source, *rest):
            await c.execute_command("CLUSTER SETSLOT", self.slot, "NODE", self._id(self.target))

    async def aclose(self) -> None:
        for c in self.clients:
            await c.aclose()

    def _id(self, client: Redis) -> bytes:
        return self.ids[self.clients.index(client)]


async def _slots_of(client: Redis) -> set[int]:
    me = await client.execute_command("CLUSTER MYID")
    shards = await client.execute_command("CLUSTER SLOTS")
    mine = [(int(s[0]), int(s[1])) for s in shards if s[2][2] == me]
    return {slot for lo, hi in mine for slot in range(lo, hi + 1)}


async def _exercise(books: Any, new_id: int) -> list[Any]:
    """Reads and writes of every kind; each one's answer, or ``StoreUnavailable``."""
    steps: list[Callable[[], Awaitable[Any]]] = [
        lambda: books.find(year=1903),  # the FIND script (reads index keys)
        lambda: books.find(),  # the MULTI read of docs and versions
        lambda: books.get(13),
        lambda: books.count(),
        lambda: books.insert(Book(id=new_id, year=1903)),  # the INSERT script
        lambda: books.update(new_id, {"year": 1909}),
        lambda: books.delete(new_id),
    ]
    out: list[Any] = []
    for step in steps:
        try:
            got = await step()
        except StoreUnavailable as exc:
            out.append(exc)
            continue
        if isinstance(got, Page):
            got = got.items
        out.append([b.id for b in got] if isinstance(got, list) else getattr(got, "id", got))
    return out


_ANSWERS = [[3, 13, 23, 33], list(range(40)), 13, 40]


async def test_a_collection_whose_slot_moves_keeps_working(
    own_cluster: RedisClusterServer,
) -> None:
    async with RedisStore(own_cluster.url, prefix="mv:") as store:
        books = store.collection(Book)
        await books.insert_many(_books(40))
        migration = _Migration(own_cluster, "mv:{book}:docs")
        try:
            await migration.start()
            # ASK: a script reaching keys it does not name (the indexes) is refused by the
            # new node until the slot is its own; every step answers right or says unavailable
            during = await _exercise(books, 100)
            for got, want in zip(during, _ANSWERS, strict=False):
                assert isinstance(got, StoreUnavailable) or got == want
            assert any(isinstance(got, StoreUnavailable) for got in during)
            assert "migrating" in str(next(g for g in during if isinstance(g, StoreUnavailable)))
            await migration.finish()
        finally:
            await migration.aclose()
        await _eventually(books.count)  # the client still has the old map: MOVED, followed
        with contextlib.suppress(NotFound):  # in case the insert got through, and not the delete
            await books.delete(100)
        await assert_indexes_exact(store, CollectionSpec.of(Book))  # no write was half done
        for _ in range(2):
            assert await _exercise(books, 101) == [*_ANSWERS, 101, 101, None]
        assert [b.id for b in await books.find(year=1903)] == [3, 13, 23, 33]


async def test_a_database_other_than_0_is_refused_clearly(
    redis_cluster: RedisClusterServer,
) -> None:
    url = redis_cluster.url.rsplit("/", 1)[0] + "/1"
    store = RedisStore(url)
    with pytest.raises(StoreUnavailable, match="could not"):
        await store.open()
    await store.aclose()


async def test_a_write_refused_during_a_migration_wrote_nothing(
    own_cluster: RedisClusterServer,
) -> None:
    """The index keys have moved, the documents not yet: a write runs on the old node, whose
    first touch of an index key is refused; it must be refused before it changed anything."""
    async with RedisStore(own_cluster.url, prefix="half:") as store:
        books = store.collection(Book)
        await books.insert_many(_books(40))
        migration = _Migration(own_cluster, "half:{book}:docs")
        outcomes: list[Any] = []
        try:
            await migration.start(keys=lambda key: ":ix:" in key)
            for write in (lambda: books.insert(Book(id=100, year=1903)),
                          lambda: books.update(3, {"year": 1904}),
                          lambda: books.delete(13)):  # fmt: skip
                try:
                    outcomes.append(await write())
                except StoreUnavailable as exc:
                    outcomes.append("migrating" in str(exc))
            await migration.move()
            await migration.finish()
        finally:
            await migration.aclose()
        assert outcomes == [True, True, True]  # each refused, saying why
        await _eventually(books.count)
        assert await books.count() == 40
        assert [b.id for b in await books.find(year=1903)] == [3, 13, 23, 33]
        await assert_indexes_exact(store, CollectionSpec.of(Book))
