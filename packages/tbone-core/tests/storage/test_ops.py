"""Update operators: the default read + compare-and-swap under contention, and the operators
whose result only the whole model can check (validated in Python, still atomic)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tbone.data import Model, field, model_validator
from tbone.errors import DuplicateKey, ValidationError
from tbone.storage import CollectionSpec, Document, MemoryStore, Record, Store
from tbone.storage.ops import apply_ops, compile_ops, each
from tbone.testing import StoreConformance


class SlowSwapStore(MemoryStore):
    """A memory store without native operators that yields between its read and its write,
    so concurrent updates really race through ``Store.update_ops``'s default."""

    capabilities: ClassVar[frozenset[str]] = MemoryStore.capabilities - {"native_ops"}
    update_ops = Store.update_ops
    swaps = 0

    async def get_docs(self, spec: CollectionSpec, pks: Any) -> list[Record]:
        found = await super().get_docs(spec, pks)
        await asyncio.sleep(0)
        return found

    async def replace_doc(
        self, spec: CollectionSpec, pk: Any, doc: Document, expect_version: int | None
    ) -> int:
        self.swaps += 1
        return await super().replace_doc(spec, pk, doc, expect_version)


class TestSlowSwapStore(StoreConformance):
    """The whole kit, the operators through the default implementation."""

    async def make_store(self, tmp_path: Path) -> Store:
        return SlowSwapStore()


async def test_default_update_ops_races_and_retries() -> None:
    from tbone.testing.storeops import KitStock

    store = SlowSwapStore()
    coll = store.collection(KitStock)
    obj = await coll.insert(KitStock(stock=50))
    await asyncio.gather(*(coll.update(obj.id, inc={"stock": -1}) for _ in range(50)))
    got = await coll.get(obj.id)
    assert got is not None
    assert got.stock == 0
    assert store.swaps > 50  # writers did lose races and retried


class Order(Model):
    qty: int = field(default=0, ge=0, choices=[0, 1, 2, 3])
    done: int = 0

    @model_validator
    def _done_within_qty(self) -> None:
        if self.done > self.qty:
            raise ValueError("done cannot exceed qty")


class Owned(Model):
    owner: str
    n: int = 0
    code: str | None = field(default=None, unique_with=["owner"])


def test_store_checked_only_when_the_limits_are_all() -> None:
    assert not compile_ops(Order, pk="id", inc={"done": 1}).store_checked  # model validator
    scoped = {"owner", "code"}  # what the collection passes for unique_with
    ops = compile_ops(Owned, pk="id", changes={"owner": "b"}, inc={"n": 1}, scoped=scoped)
    assert not ops.store_checked
    assert compile_ops(Owned, pk="id", inc={"n": 1}, scoped=scoped).store_checked
    assert not compile_ops(Order, pk="id", inc={"qty": 1}).store_checked  # choices


async def test_model_checks_apply_to_operators() -> None:
    coll = MemoryStore().collection(Order)
    obj = await coll.insert(Order(qty=1))
    with pytest.raises(ValidationError) as err:
        await coll.update(obj.id, inc={"done": 2})
    assert "done cannot exceed qty" in str(err.value)
    with pytest.raises(ValidationError) as err:
        await coll.update(obj.id, inc={"qty": 5})
    assert err.value.errors[0]["loc"] == ["qty"]
    assert await coll.get(obj.id) == obj
    before, after = await coll.update_ops(obj.id, inc={"qty": 2, "done": 1})
    assert (before.qty, after.qty, after.done) == (1, 3, 1)


async def test_scoped_unique_key_follows_the_operators() -> None:
    coll = MemoryStore().collection(Owned)
    a = await coll.insert(Owned(owner="a", code="x"))
    await coll.insert(Owned(owner="b", code="x"))
    with pytest.raises(DuplicateKey) as err:
        await coll.update(a.id, {"owner": "b"}, inc={"n": 1})
    assert err.value.field == "code"
    moved = await coll.update(a.id, {"owner": "c"}, inc={"n": 1})
    assert (moved.owner, moved.n) == ("c", 1)


def test_apply_ops_is_pure() -> None:
    from tbone.testing.storeops import KitStock

    doc = KitStock(stock=1, tags=["a"]).to_data(full=True)
    ops = compile_ops(KitStock, pk="id", inc={"stock": 2}, push={"tags": each("b", "c")})
    out = apply_ops(doc, ops)
    assert (out["stock"], out["tags"]) == (3, ["a", "b", "c"])
    assert (doc["stock"], doc["tags"]) == (1, ["a"])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"inc": ["stock"]},
        {"inc": {1: 1}},
        {"push": {"tags": each(*["x"] * 1001)}},
        {"inc": {"": 1}},
        {"inc": {"supplier..rating": 1}},
        {"add_to_set": {"counts": 1}},
    ],
)
def test_hostile_operators_are_validation_errors(kwargs: dict[str, Any]) -> None:
    from tbone.testing.storeops import KitStock

    with pytest.raises(ValidationError):
        compile_ops(KitStock, pk="id", **kwargs)


async def test_changes_that_are_no_mapping_are_refused() -> None:
    from tbone.testing.storeops import KitStock

    coll = MemoryStore().collection(KitStock)
    obj = await coll.insert(KitStock())
    for bad in (5, "stock", ["stock"]):
        with pytest.raises(ValidationError):
            await coll.update_ops(obj.id, bad, inc={"stock": 1})  # type: ignore[arg-type]
    assert await coll.get(obj.id) == obj
