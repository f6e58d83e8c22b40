"""Differential: generated writes and queries on indexed fields give the memory store's answers.

The kit's own differential tests query fields without indexes; here every field is indexed (an
untyped one holding mixed types among them), documents are updated and deleted after the insert,
and after each example the index keys are checked against the documents.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tbone.data import Model, field
from tbone.errors import DuplicateKey, NotFound
from tbone.storage import CollectionSpec, MemoryStore, Q, Store
from tbone_redis import RedisStore

from .conftest import Target
from .indexcheck import IndexOnly, assert_indexes_exact


class Item(Model):
    id: int = field(primary_key=True)
    n: int | None = field(default=None, index=True)
    x: float | None = field(default=None, index=True)
    s: str = field(default="", index=True)
    flag: bool = field(default=False, index=True)
    v: Any = field(default=None, index=True)
    d: Decimal | None = field(default=None, index=True)
    u: str | None = field(default=None, unique=True)


# values chosen to collide: equal spellings, floats that round onto each other, NULs in text
_INTS = st.integers(-3, 3) | st.sampled_from([2**53, 2**53 + 1, -(2**60)])
_FLOATS = st.sampled_from([-1.5, -0.0, 0.0, 1.0, 2.5, 1e300, 3.0])
_TEXT = st.sampled_from(["", "a", "a\0", "a\0b", "ab", "b", "é"]) | st.text("ab\0é", max_size=3)
_DECIMALS = st.sampled_from(
    ["1", "1.0", "1.5", "-2", "0.10", "9007199254740992", "9007199254740993"]
).map(Decimal)
_ANY = st.one_of(st.none(), _INTS, _FLOATS, _TEXT, st.booleans(), st.just({"k": 1}))
_VALUES = {"n": st.none() | _INTS, "x": st.none() | _FLOATS, "s": _TEXT, "flag": st.booleans(),
           "v": _ANY, "d": st.none() | _DECIMALS,
           "u": st.none() | st.sampled_from("pqr")}  # fmt: skip
_ORDERED = {"n": _INTS, "x": _FLOATS | _INTS, "s": _TEXT, "v": _ANY.filter(lambda v: v is not None),
            "d": _DECIMALS}  # fmt: skip
_PKS = st.integers(0, 15)


def _items() -> Any:
    # unique u values, or nearly every batch would be refused whole; the updates collide
    return st.lists(
        st.builds(Item, id=_PKS, **_VALUES),
        max_size=16,
        unique_by=(lambda i: i.id, lambda i: (i.id,) if i.u is None else i.u),
    )


def _changes() -> Any:
    one = st.sampled_from(sorted(_VALUES)).flatmap(
        lambda name: _VALUES[name].map(lambda value: {name: value})
    )
    update = st.tuples(st.just("update"), _PKS, one)
    delete = st.tuples(st.just("delete"), _PKS, st.just({}))
    return st.lists(update | delete, max_size=8)


def _leaf() -> Any:
    def lookup(name: str, op: str, value: Any) -> Q:
        return Q(**{f"{name}__{op}": value})

    exact = st.sampled_from(sorted(_VALUES)).flatmap(
        lambda name: _VALUES[name].map(lambda v: lookup(name, "exact", v))
    )
    member = st.sampled_from(sorted(_VALUES)).flatmap(
        lambda name: st.lists(_VALUES[name], max_size=3).map(lambda v: lookup(name, "in", v))
    )
    ranges = st.sampled_from(sorted(_ORDERED)).flatmap(
        lambda name: st.builds(
            lambda op, v: lookup(name, op, v), st.sampled_from(["lt", "lte", "gt", "gte"]),
            _ORDERED[name],
        )
    )  # fmt: skip
    prefix = st.builds(lambda v: Q(s__startswith=v), _TEXT)
    pk = _PKS.map(lambda v: Q(id=v)) | st.lists(_PKS, max_size=3).map(lambda v: Q(id__in=v))
    return st.one_of(exact, member, ranges, prefix, pk)


def _queries() -> Any:
    conjunction = st.lists(_leaf(), min_size=1, max_size=3).map(
        lambda qs: qs[0] if len(qs) == 1 else _and(qs)
    )
    other = st.builds(lambda a, b: a | b, _leaf(), _leaf()) | _leaf().map(lambda a: ~a)
    mixed = st.builds(lambda a, b: a & b, conjunction, other)
    return st.one_of(conjunction, conjunction, mixed)


def _and(qs: list[Q]) -> Q:
    out = qs[0]
    for q in qs[1:]:
        out = out & q
    return out


async def _apply(store: Store, items: list[Item], changes: list[Any]) -> list[str]:
    coll = store.collection(Item)
    outcomes = []
    try:
        await coll.insert_many([Item.from_data(i.to_data(full=True)) for i in items])
    except DuplicateKey as exc:  # two items with one unique value: the whole batch refused
        outcomes.append(f"dup {exc.field}")
    for op, pk, change in changes:
        try:
            if op == "delete":
                await coll.delete(pk)
            else:
                await coll.update(pk, change)
            outcomes.append("ok")
        except (NotFound, DuplicateKey) as exc:
            outcomes.append(type(exc).__name__)
    return outcomes


async def _answers(store: Store, queries: list[Q]) -> list[Any]:
    coll = store.collection(Item)
    out: list[Any] = []
    for q in queries:
        out.append([i.id for i in await coll.find(q, order_by=["id"])])
        out.append(await coll.count(q))
    return out


async def _compare(
    store: type[RedisStore], url: str, items: list[Item], changes: list[Any], queries: list[Q]
) -> None:
    async with MemoryStore() as memory, store(url, prefix=f"p:{uuid4().hex}:") as redis:
        expected = [await _apply(memory, items, changes), await _answers(memory, queries)]
        got = [await _apply(redis, items, changes), await _answers(redis, queries)]
        assert got == expected, f"queries {queries!r}"
        await assert_indexes_exact(redis, CollectionSpec.of(Item))


# the cluster runs the index path only: connecting to it costs more per example, and the
# kit's differential tests already cover the scan path there
@pytest.mark.parametrize(
    ("target", "store"),
    [("server", IndexOnly), ("server", RedisStore), ("cluster", IndexOnly)],
    indirect=["target"],
)
def test_indexed_queries_answer_as_the_memory_store(
    target: Target, store: type[RedisStore]
) -> None:
    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(items=_items(), changes=_changes(), queries=st.lists(_queries(), min_size=1, max_size=4))
    def check(items: list[Item], changes: list[Any], queries: list[Q]) -> None:
        asyncio.run(_compare(store, target.url, items, changes, queries))

    check()


def _bounds_from(items: list[Item]) -> list[Q]:
    """Every range and equality lookup with every stored value as its bound: the values where
    an index bound that is one step too tight or too loose shows."""
    out = []
    for item in items:
        for name in sorted(_ORDERED):
            value = getattr(item, name)
            if value is None:
                continue
            ops = ["exact", "lt", "lte", "gt", "gte"] + (["startswith"] if name == "s" else [])
            out += [Q(**{f"{name}__{op}": value}) for op in ops]
    return out


def test_stored_values_as_bounds_answer_as_the_memory_store(target: Target) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(items=_items())
    def check(items: list[Item]) -> None:
        asyncio.run(_compare(IndexOnly, target.url, items, [], _bounds_from(items)))

    check()
