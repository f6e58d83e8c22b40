"""Update operators in Redis: one script that edits the document's JSON text, keeps the
secondary indexes and unique values exact, and floats and integers exact."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import pytest

from tbone.data import Model, field, version_of
from tbone.errors import DuplicateKey, ValidationError
from tbone.storage import CollectionSpec, Document, MemoryStore, each
from tbone.testing.storeops import KitStock
from tbone_redis import RedisStore

from .conftest import Target
from .indexcheck import IndexOnly, actual_indexes, base_of, client_of, expected_indexes


class NoSwap(IndexOnly):
    """Fails if the operators are applied by read + compare-and-swap instead of natively."""

    async def replace_doc(
        self, spec: CollectionSpec, pk: Any, doc: Document, expect_version: int | None
    ) -> int:
        raise AssertionError("these operators must not fall back to replace_doc")


class Item(Model):
    id: int = field(primary_key=True)
    stock: int = field(default=0, ge=0, index=True)
    code: int | None = field(default=None, unique=True)
    name: str = field(default="", index=True)
    price: float = 0.0
    tags: list[str] = field(factory=list)


@pytest.fixture
async def store(target: Target) -> AsyncIterator[RedisStore]:
    async with NoSwap(target.url, prefix=f"ops:{uuid4().hex}:") as opened:
        yield opened


async def _assert_indexes_exact(store: RedisStore, spec: CollectionSpec) -> None:
    """The index keys hold exactly what the documents imply (ivals compared as entries: the
    script spells a score ``7`` where Python spells ``7.0``)."""
    client = client_of(store)
    try:
        base = base_of(store, spec.name)
        got = await actual_indexes(client, base)
        want = await expected_indexes(client, base, spec)
    finally:
        await client.aclose()
    assert got[0] == want[0], "equality sets differ"
    assert got[1] == want[1], "sorted sets differ"
    assert {pk: _entries(e) for pk, e in got[2].items()} == {
        pk: _entries(e) for pk, e in want[2].items()
    }


def _entries(text: str) -> set[tuple[str, str, Any]]:
    e = json.loads(text)
    triples = zip(e[::3], e[1::3], e[2::3], strict=True)
    return {(k, key, float(arg) if k == "z" else arg) for k, key, arg in triples}


async def test_indexes_and_unique_values_follow_the_operators(store: RedisStore) -> None:
    items = store.collection(Item)
    spec = CollectionSpec.of(Item)
    await items.insert_many([Item(id=i, stock=i, code=i, name=f"n{i}") for i in range(1, 6)])
    got = await items.update(1, {"name": "moved"}, inc={"stock": 10, "code": 100})
    assert (got.stock, got.code, got.name, version_of(got)) == (11, 101, "moved", 2)
    await _assert_indexes_exact(store, spec)
    assert [i.id for i in await items.find(stock=11)] == [1]
    assert [i.id for i in await items.find(stock__gte=10)] == [1]
    assert [i.id for i in await items.find(code=101)] == [1]
    assert list(await items.find(code=1)) == []
    assert [i.id for i in await items.find(name__startswith="mov")] == [1]
    with pytest.raises(DuplicateKey) as err:
        await items.update(2, inc={"code": 1})
    assert err.value.field == "code"
    await items.insert(Item(id=9, code=1))  # the code item 1 left is free
    await items.update_ops(2, {"code": None})  # changes alone, through the script too
    await items.insert(Item(id=10, code=2))
    await _assert_indexes_exact(store, spec)


async def test_floats_add_exactly_as_in_python(store: RedisStore) -> None:
    memory = MemoryStore().collection(Item)
    coll = store.collection(Item)
    for c in (memory, coll):
        await c.insert(Item(id=1, price=0.1))
    for amount in (0.2, 1 / 3, 1e-9, -7, 1e300, -1e300):
        want = await memory.update(1, inc={"price": amount})
        got = await coll.update(1, inc={"price": amount})
        assert got.price == want.price
        assert type(got.price) is float
    stored = await coll.get(1)
    assert stored is not None
    assert stored.price == want.price


async def test_pushed_text_is_spliced_verbatim(store: RedisStore) -> None:
    coll = store.collection(Item)
    await coll.insert(Item(id=1, name='a "quoted" \\ name', tags=[]))
    odd = ['x"]}', "\u2603 \\", "", "{[,"]
    for tag in odd:
        await coll.update(1, push={"tags": tag})
    got = await coll.get(1)
    assert got is not None
    assert (got.tags, got.name) == (odd, 'a "quoted" \\ name')
    got = await coll.update(1, add_to_set={"tags": each(*odd, "new", "new")})
    assert got.tags == [*odd, "new"]
    got = await coll.update(1, pull={"tags": each('x"]}', "new", "absent")})
    assert got.tags == odd[1:]
    assert await coll.get(1) == got


async def test_integers_beyond_2_53_are_exact(target: Target) -> None:
    async with RedisStore(target.url, prefix=f"ops:{uuid4().hex}:") as store:
        coll = store.collection(KitStock)
        obj = await coll.insert(KitStock(stock=2**60))
        got = await coll.update(obj.id, inc={"stock": 1})
        assert got.stock == 2**60 + 1
        with pytest.raises(ValidationError):
            await coll.update(obj.id, inc={"stock": -(2**61)})  # below ge=0
        assert await coll.get(obj.id) == got


async def test_a_refused_bound_changes_nothing(store: RedisStore) -> None:
    coll = store.collection(Item)
    await coll.insert(Item(id=1, stock=1, code=5))
    with pytest.raises(ValidationError):
        await coll.update(1, {"name": "x"}, inc={"stock": -2, "code": 1})
    got = await coll.get(1)
    assert got is not None
    assert (got.stock, got.code, got.name, version_of(got)) == (1, 5, "", 1)
    await _assert_indexes_exact(store, CollectionSpec.of(Item))


async def test_two_clients_race_and_lose_nothing(target: Target) -> None:
    prefix = f"ops:{uuid4().hex}:"
    async with (
        NoSwap(target.url, prefix=prefix) as one,
        NoSwap(target.url, prefix=prefix) as two,
    ):
        a, b = one.collection(Item), two.collection(Item)
        await a.insert(Item(id=1, stock=45))
        results = await asyncio.gather(
            *(c.update(1, inc={"stock": -1}) for c in [a, b] * 25), return_exceptions=True
        )
        refused = [r for r in results if isinstance(r, BaseException)]
        assert len(refused) == 5
        assert all(isinstance(r, ValidationError) for r in refused)
        got = await b.get(1)
        assert got is not None
        assert (got.stock, version_of(got)) == (0, 46)
        await _assert_indexes_exact(one, CollectionSpec.of(Item))
