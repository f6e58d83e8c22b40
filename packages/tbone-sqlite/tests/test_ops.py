"""Update operators in SQLite: one UPDATE statement, exact floats, 64-bit integers, and
decrements racing from two connections to one file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tbone.data import version_of
from tbone.errors import ValidationError
from tbone.storage import CollectionSpec, Document, MemoryStore
from tbone.testing.storeops import KitStock
from tbone_sqlite import SQLiteStore


class NoSwapStore(SQLiteStore):
    """Fails if the operators are applied by read + compare-and-swap instead of natively."""

    async def replace_doc(
        self, spec: CollectionSpec, pk: Any, doc: Document, expect_version: int | None
    ) -> int:
        raise AssertionError("inc and push must not fall back to replace_doc")


async def test_inc_and_push_are_one_statement(tmp_path: Path) -> None:
    async with NoSwapStore(tmp_path / "a.db") as store:
        coll = store.collection(KitStock)
        obj = await coll.insert(KitStock(stock=2))
        got = await coll.update(obj.id, {"note": "n"}, inc={"stock": -1}, push={"tags": "x"})
        assert (got.stock, got.note, got.tags, version_of(got)) == (1, "n", ["x"], 2)


async def test_floats_add_exactly_as_in_python(tmp_path: Path) -> None:
    memory = MemoryStore().collection(KitStock)
    async with SQLiteStore(tmp_path / "a.db") as store:
        coll = store.collection(KitStock)
        for c in (memory, coll):
            await c.insert(KitStock(id="p", price=0.1))
        for amount in (0.2, 1 / 3, 1e-9, -7, 1e300):
            want = await memory.update("p", inc={"price": amount})
            got = await coll.update("p", inc={"price": amount})
            assert got.price == want.price
        stored, reference = await coll.get("p"), await memory.get("p")
        assert stored is not None
        assert reference is not None
        assert stored.price == reference.price


async def test_float_overflow_is_refused(tmp_path: Path) -> None:
    async with SQLiteStore(tmp_path / "a.db") as store:
        coll = store.collection(KitStock)
        obj = await coll.insert(KitStock(price=1.7e308))
        with pytest.raises(ValidationError):
            await coll.update(obj.id, inc={"price": 1e308})
        assert await coll.get(obj.id) == obj


async def test_int64_overflow_is_refused(tmp_path: Path) -> None:
    async with SQLiteStore(tmp_path / "a.db") as store:
        coll = store.collection(KitStock)
        obj = await coll.insert(KitStock(stock=2**63 - 1))
        with pytest.raises(ValidationError) as err:
            await coll.update(obj.id, inc={"stock": 1})
        assert err.value.errors[0]["type"] == "int64"
        assert await coll.get(obj.id) == obj


async def test_decrements_from_two_connections_lose_none(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    async with SQLiteStore(path) as one, SQLiteStore(path) as two:
        a, b = one.collection(KitStock), two.collection(KitStock)
        obj = await a.insert(KitStock(stock=45))
        results = await asyncio.gather(
            *(c.update(obj.id, inc={"stock": -1}) for c in [a, b] * 25), return_exceptions=True
        )
        refused = [r for r in results if isinstance(r, BaseException)]
        assert len(refused) == 5
        assert all(isinstance(r, ValidationError) for r in refused)
        got = await b.get(obj.id)
        assert got is not None
        assert (got.stock, version_of(got)) == (0, 46)
