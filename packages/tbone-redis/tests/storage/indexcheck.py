"""Helpers of the index tests: what Redis holds, compared with what the documents imply."""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from tbone.storage import CollectionSpec
from tbone_redis import RedisStore
from tbone_redis._client import make_client
from tbone_redis._index import Indexes


class IndexOnly(RedisStore):
    """Uses an index even when it holds the whole collection, so that small test collections
    exercise the index path rather than the scan a real store would prefer."""

    scan_above = 1e9


Layout = tuple[dict[str, set[str]], dict[str, dict[str, float]], dict[str, str]]


def base_of(store: RedisStore, name: str) -> str:
    return f"{store.prefix}{{{name}}}:"


def client_of(store: RedisStore) -> Redis | RedisCluster:
    """A client of the store's server or cluster (a cluster's ``scan_iter`` scans every node)."""
    return make_client(store.url, store.cluster)


async def actual_indexes(client: Redis | RedisCluster, base: str) -> Layout:
    """Every ``ix:`` key under ``base`` (sets and sorted sets) and the ``ivals`` hash."""
    sets: dict[str, set[str]] = {}
    zsets: dict[str, dict[str, float]] = {}
    async for raw in client.scan_iter(match=f"{base}ix:*", count=1000):
        key = raw.decode()[len(base) :]
        kind = (await client.type(raw)).decode()
        if kind == "set":
            sets[key] = {m.decode() for m in await client.smembers(raw)}
        else:
            assert kind == "zset", key
            zsets[key] = {
                m.decode(): s for m, s in await client.zrange(raw, 0, -1, withscores=True)
            }
    ivals = {k.decode(): v.decode() for k, v in (await client.hgetall(f"{base}ivals")).items()}
    return sets, zsets, ivals


async def expected_indexes(client: Redis | RedisCluster, base: str, spec: CollectionSpec) -> Layout:
    """The index keys the stored documents should have, computed afresh from each of them."""
    indexes = Indexes.of(spec)
    sets: dict[str, set[str]] = {}
    zsets: dict[str, dict[str, float]] = {}
    ivals: dict[str, str] = {}
    for raw_pk, raw_doc in (await client.hgetall(f"{base}docs")).items():
        pk = raw_pk.decode()
        entries = indexes.entries(json.loads(raw_doc), pk)
        if entries:
            ivals[pk] = entries
        items: list[Any] = json.loads(entries) if entries else []
        for kind, key, arg in zip(items[::3], items[1::3], items[2::3], strict=True):
            if kind == "s":
                sets.setdefault(key, set()).add(pk)
            elif kind == "z":
                zsets.setdefault(key, {})[pk] = float(arg)
            else:
                zsets.setdefault(key, {})[arg] = 0.0
    return sets, zsets, ivals


async def assert_indexes_exact(store: RedisStore, spec: CollectionSpec) -> None:
    """The index keys hold exactly the entries of the stored documents: nothing missing, nothing
    left behind by an update or a delete."""
    client = client_of(store)
    try:
        base = base_of(store, spec.name)
        got = await actual_indexes(client, base)
        want = await expected_indexes(client, base, spec)
    finally:
        await client.aclose()
    assert got[0] == want[0], "equality sets differ"
    assert got[1] == want[1], "sorted sets differ"
    assert got[2] == want[2], "ivals differ"


async def command_calls(client: Redis, command: str) -> int:
    """How many times the server ran ``command`` (scripts' calls included), from INFO."""
    stats = await client.info("commandstats")
    entry = stats.get(f"cmdstat_{command.lower()}")
    return int(entry["calls"]) if entry else 0
