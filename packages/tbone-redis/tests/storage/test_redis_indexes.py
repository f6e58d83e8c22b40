"""Secondary indexes: exact after every write, never changing an answer, reading only candidates."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from redis.asyncio import Redis

from tbone.data import Model, field
from tbone.errors import DuplicateKey, NotFound
from tbone.storage import CollectionSpec, Q
from tbone_redis import RedisStore

from .conftest import Target
from .indexcheck import IndexOnly, assert_indexes_exact, base_of, client_of, command_calls


class Book(Model):
    id: int = field(primary_key=True)
    year: int | None = field(default=None, index=True)
    title: str = field(default="", index=True)
    isbn: str | None = field(default=None, unique=True)
    rating: float = 0.0  # not indexed


class Loose(Model):
    id: str = field(primary_key=True)
    v: Any = field(default=None, index=True)
    price: Decimal | None = field(default=None, index=True)


@pytest.fixture
async def store(target: Target) -> AsyncIterator[RedisStore]:
    # IndexOnly: small collections take the index path too (the MONITOR test shows a find
    # on 2,000 documents takes it with the default threshold)
    async with IndexOnly(target.url, prefix=f"ix:{uuid4().hex}:") as opened:
        yield opened


@pytest.fixture
async def client(target: Target) -> AsyncIterator[Redis]:
    """The server, or the cluster node, holding the ``book`` collection of these tests."""
    opened = await target.node("book")
    yield opened
    await opened.aclose()


def _books(n: int) -> list[Book]:
    return [Book(id=i, year=1900 + i % 100, title=f"t{i % 50:02d}", isbn=f"i{i}") for i in range(n)]


async def _monitored(client: Redis, action: Any) -> list[str]:
    """The commands the server ran (scripts' included) while ``action()`` ran."""
    marker = f"done-{uuid4().hex}"
    seen: list[str] = []
    async with client.monitor() as monitor:

        async def read() -> None:
            async for cmd in monitor.listen():
                if cmd["command"] == f"ECHO {marker}":
                    return
                seen.append(cmd["command"])

        reader = asyncio.create_task(read())
        await asyncio.sleep(0.05)  # MONITOR is on before the action starts
        await action()
        await client.echo(marker)
        await asyncio.wait_for(reader, 10)
    return seen


def _fields_read(commands: list[str], key: str) -> int:
    """Hash fields read from ``key`` by HMGET / HGET; -1 for a whole read (HGETALL, HVALS...)."""
    total = 0
    for command in commands:
        words = command.split()
        name = words[0].upper()
        if len(words) < 2 or words[1] != key:
            continue
        if name in ("HGETALL", "HVALS", "HKEYS", "HSCAN"):
            return -1
        if name in ("HMGET", "HGET"):
            total += len(words) - 2
    return total


async def test_an_indexed_find_reads_only_the_matching_documents(
    store: RedisStore, client: Redis
) -> None:
    books = store.collection(Book)
    await books.insert_many(_books(2000))  # 20 per year, 40 per title
    docs_key = f"{base_of(store, 'book')}docs"
    found: list[Any] = []

    async def finds() -> None:
        found.append(len(await books.find(year=1950)))
        found.append(await books.count(year__gte=1950, year__lt=1951))
        found.append(len(await books.find(title="t07", year=1907)))  # the smaller index: year
        found.append(len(await books.find(year__in=[1950, 1951], title="t00")))
        found.append(len(await books.find(id__in=[3, 4, 99999])))

    commands = await _monitored(client, finds)
    assert found == [20, 20, 20, 20, 2]
    assert _fields_read(commands, docs_key) == 20 + 20 + 20 + 40 + 3


async def test_long_in_lists_are_answered(store: RedisStore) -> None:
    books = store.collection(Book)
    await books.insert_many(_books(50))
    many = list(range(20_000))
    assert len(await books.find(id__in=many)) == 50
    assert len(await books.find(year__in=[*range(1910), *range(1920, 9000)])) == 40
    assert await books.count(year__in=many, id__in=many) == 50  # the pk probe, in chunks


async def test_queries_the_indexes_cannot_answer_scan_and_agree(store: RedisStore) -> None:
    books = store.collection(Book)
    await books.insert_many(_books(300))
    everything = await books.find()
    cases = [
        (Q(year=1901) | Q(year=1902), lambda b: b.year in (1901, 1902)),
        (~Q(year=1901), lambda b: b.year != 1901),
        (Q(rating__gte=0), lambda b: True),
        (Q(title__icontains="T1"), lambda b: "t1" in b.title),
    ]
    for query, keep in cases:
        assert [b.id for b in await books.find(query)] == [b.id for b in everything if keep(b)]


async def test_writes_keep_the_indexes_exact(store: RedisStore) -> None:
    books = store.collection(Book)
    spec = CollectionSpec.of(Book)
    await books.insert_many(_books(100))
    await assert_indexes_exact(store, spec)
    await books.update(5, {"year": 2500, "title": "moved"})  # replace changes indexed values
    await books.update(6, {"rating": 4.5})  # and one that does not
    await books.update(7, {"year": None})
    await books.delete(8)
    await assert_indexes_exact(store, spec)
    assert [b.id for b in await books.find(year=2500)] == [5]
    assert [b.id for b in await books.find(year__gt=2400)] == [5]
    assert [b.id for b in await books.find(title__startswith="mov")] == [5]
    assert 5 not in [b.id for b in await books.find(year=1905)]
    assert [b.id for b in await books.find(year=None)] == [7]
    assert 8 not in [b.id for b in await books.find(year=1908)]


async def test_null_and_missing_values_are_found_by_equality_with_none(store: RedisStore) -> None:
    books = store.collection(Book)
    await books.insert_many([Book(id=1), Book(id=2, year=2000), Book(id=3, year=None)])
    assert [b.id for b in await books.find(year=None)] == [1, 3]
    assert [b.id for b in await books.find(year__in=[None, 2000])] == [1, 2, 3]
    assert [b.id for b in await books.find(year__lte=2000)] == [2]
    assert await books.count(isbn=None) == 3


async def test_one_true_and_text_one_never_share_an_index_entry(store: RedisStore) -> None:
    loose = store.collection(Loose)
    values: list[Any] = [1, 1.0, True, "1", None, 2.5, "b", False, 0, {"k": 1}, [1]]
    await loose.insert_many([Loose(id=f"k{i}", v=v) for i, v in enumerate(values)])
    assert [x.id for x in await loose.find(v=1)] == ["k0", "k1"]
    assert [x.id for x in await loose.find(v=True)] == ["k2"]
    assert [x.id for x in await loose.find(v="1")] == ["k3"]
    assert [x.id for x in await loose.find(v=0)] == ["k8"]
    assert [x.id for x in await loose.find(v__in=[False, "b"])] == ["k6", "k7"]
    assert [x.id for x in await loose.find(v={"k": 1})] == ["k9"]
    assert [x.id for x in await loose.find(v=[1])] == ["k10"]
    assert [x.id for x in await loose.find(v__gte=1)] == ["k0", "k1", "k5"]  # no True
    assert [x.id for x in await loose.find(v__lt="b")] == ["k3"]


async def test_decimal_and_float_spellings_of_one_number_are_one_value(store: RedisStore) -> None:
    loose = store.collection(Loose)
    prices = ["1", "1.0", "1.50", "1.5", "0.1", "-2", "1e2"]
    await loose.insert_many([Loose(id=f"p{i}", price=Decimal(p)) for i, p in enumerate(prices)])
    assert [x.id for x in await loose.find(price=Decimal("1.00"))] == ["p0", "p1"]
    assert [x.id for x in await loose.find(price=Decimal("1.5"))] == ["p2", "p3"]
    assert [x.id for x in await loose.find(price__gt=Decimal("1"))] == ["p2", "p3", "p6"]
    assert [x.id for x in await loose.find(price__lte=Decimal("0.1"))] == ["p4", "p5"]


async def test_text_ranges_keep_code_point_order_and_nul(store: RedisStore) -> None:
    books = store.collection(Book)
    titles = ["", "a", "a\0", "a\0b", "ab", "b", "é", "\U0001f600", "z" * 300]
    await books.insert_many([Book(id=i, title=t) for i, t in enumerate(titles)])
    for bound in titles:
        for op, keep in (
            ("lt", lambda t, b: t < b),
            ("lte", lambda t, b: t <= b),
            ("gt", lambda t, b: t > b),
            ("gte", lambda t, b: t >= b),
            ("startswith", lambda t, b: t.startswith(b)),
        ):
            got = [b.id for b in await books.find(**{f"title__{op}": bound})]
            want = [i for i, t in enumerate(titles) if keep(t, bound)]
            assert got == want, (op, bound)


async def _write(books: Any, pk: int, year: int, delete: bool) -> None:
    """Delete, update or (re-)insert ``pk``; losing a race to another writer is fine."""
    try:
        if delete:
            await books.delete(pk)
        else:
            await books.update(pk, {"year": year, "title": f"t{year % 7}"})
    except NotFound:
        with contextlib.suppress(DuplicateKey):
            await books.insert(Book(id=pk, year=year))


async def test_concurrent_writers_and_deleters_leave_exact_indexes(
    target: Target,
) -> None:
    prefix = f"ix:{uuid4().hex}:"
    spec = CollectionSpec.of(Book)
    rng = random.Random(11)
    async with (
        IndexOnly(target.url, prefix=prefix) as one,
        IndexOnly(target.url, prefix=prefix) as two,
    ):
        await one.collection(Book).insert_many(_books(60))
        collections = [one.collection(Book), two.collection(Book)]
        gate = asyncio.Semaphore(16)  # in flight at once: within the connection pools

        async def write() -> None:
            books = rng.choice(collections)
            pk, year, delete = rng.randrange(60), rng.randrange(5), rng.random() < 0.3
            async with gate:
                await _write(books, pk, year, delete)

        await asyncio.gather(*(write() for _ in range(400)))
        await assert_indexes_exact(one, spec)
        everything = await one.collection(Book).find()
        for year in range(5):
            want = [b.id for b in everything if b.year == year]
            assert [b.id for b in await two.collection(Book).find(year=year)] == want


async def test_prepare_indexes_data_written_before_the_indexes(
    store: RedisStore, client: Redis
) -> None:
    class Plain(Model):  # the same collection before its fields were marked index=True
        id: int = field(primary_key=True)
        year: int | None = None
        title: str = ""

    await store.collection(Plain, "book").insert_many(
        [Plain(id=i, year=1900 + i % 10, title=f"t{i}") for i in range(1200)]
    )
    # and documents as the store wrote them before it kept indexes at all
    base = base_of(store, "book")
    await client.hset(f"{base}docs", "5000", '{"id":5000,"year":1903,"title":"old"}')
    await client.hset(f"{base}versions", "5000", "1")
    books = store.collection(Book)
    assert len(await books.find(year=1903)) == 121  # prepared on first use: rebuilt
    await assert_indexes_exact(store, CollectionSpec.of(Book))
    before = await command_calls(client, "HGETALL")
    assert await books.count(year=1903) == 121
    assert await command_calls(client, "HGETALL") == before  # answered from the index


async def test_a_writer_with_another_definition_makes_finds_scan(
    store: RedisStore, client: Redis
) -> None:
    class Plain(Model):  # a process still running the model without the indexes
        id: int = field(primary_key=True)
        year: int | None = None

    books = store.collection(Book)
    await books.insert_many(_books(50))
    await books.count(year=1901)
    async with RedisStore(store.url, prefix=store.prefix) as old:
        await old.insert_docs(CollectionSpec.of(Plain, "book"), [{"id": 777, "year": 1901}])
    before = await command_calls(client, "HGETALL")
    assert [b.id for b in await books.find(year=1901)] == [1, 777]  # not missed: scanned
    assert await command_calls(client, "HGETALL") > before


async def test_every_key_of_a_collection_is_in_its_hash_slot(store: RedisStore) -> None:
    await store.collection(Book, "shelf").insert_many(_books(20))
    await store.collection(Loose, "shelf2").insert(Loose(id="a", v=[1], price=Decimal(1)))
    client = client_of(store)  # on a cluster, its scan_iter scans every node
    try:
        keys = [k.decode() async for k in client.scan_iter(match=f"{store.prefix}*", count=1000)]
    finally:
        await client.aclose()
    assert any(":ix:" in k for k in keys)
    assert all("{shelf}:" in k or "{shelf2}:" in k for k in keys)
