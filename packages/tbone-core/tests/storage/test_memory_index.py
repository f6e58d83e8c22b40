"""The memory store's equality index: exact after every write, and read instead of a scan."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tbone import Model, field
from tbone.errors import DuplicateKey, NotFound
from tbone.storage import MemoryStore, Q, compile_where, matches


class Item(Model):
    id: int = field(primary_key=True)
    kind: str | None = field(default=None, index=True)
    code: int | None = field(default=None, unique=True)
    at: dt.datetime | None = field(default=None, index=True)
    note: str = ""


async def test_an_equality_filter_reads_only_the_matching_documents() -> None:
    store = MemoryStore()
    items = store.collection(Item)
    await items.insert_many([Item(id=i, kind=f"k{i % 10}", code=i) for i in range(200)])
    spec = items.spec
    where = compile_where(Item, kind="k3", note="")
    assert where is not None
    candidates = store._index(spec).candidates(where)
    assert candidates is not None
    assert len(candidates) == 20
    assert len(await items.find(kind="k3")) == 20
    assert await items.count(kind__in=["k3", "k4", "zz"]) == 40
    assert store._index(spec).candidates(compile_where(Item, id=7)) == {7}  # type: ignore[arg-type]
    assert [x.id for x in await items.find(Q(code=5) | Q(code=6))] == [5, 6]  # no index: a scan


async def test_instants_are_indexed_by_value_not_by_text() -> None:
    items = MemoryStore().collection(Item)
    utc = dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC)
    await items.insert(Item(id=1, at=utc.astimezone(dt.timezone(dt.timedelta(hours=2)))))
    assert [x.id for x in await items.find(at=utc)] == [1]


kinds = st.none() | st.sampled_from(["a", "b", "c"])
steps = st.lists(
    st.tuples(
        st.sampled_from(["insert", "replace", "set", "delete"]),
        st.integers(0, 5),
        kinds,
        st.none() | st.integers(0, 3),
    ),
    max_size=25,
)


@settings(max_examples=100, deadline=None)
@given(steps=steps, kind=kinds, codes=st.lists(st.none() | st.integers(0, 3), max_size=3))
async def test_the_index_stays_exact_through_every_write(
    steps: list[tuple[str, int, str | None, int | None]],
    kind: str | None,
    codes: list[int | None],
) -> None:
    store = MemoryStore()
    items = store.collection(Item)
    kept = compile_where(Item, kind="a")  # one filter object, asked after every write
    assert kept is not None
    for op, pk, k, code in steps:
        await _apply(items, op, pk, k, code)
        table = store._tables.get(items.spec.name, {})
        expected = sorted(p for p, r in table.items() if r.doc.get("kind") == "a")
        assert [x.id for x in await items.find(kept)] == expected
        assert await items.count(kept) == len(expected)
        # whole-collection pages come from kept key orders: they follow every write
        ids = sorted(store._tables.get(items.spec.name, {}))
        assert [x.id for x in await items.find()] == ids
        assert [x.id for x in await items.find(order_by="-id", limit=2, offset=1)] == (
            ids[::-1][1:3]
        )
        assert [x.id for x in await items.find(order_by="-id")] == ids[::-1]
        assert list(await items.find(order_by="-id", limit=3, offset=len(ids))) == []
    docs = [r.doc for r in store._tables.get(items.spec.name, {}).values()]
    codes_held = [d["code"] for d in docs if d.get("code") is not None]
    assert len(codes_held) == len(set(codes_held))  # unique held through the index
    for query in (Q(kind=kind), Q(code__in=codes), Q(kind=kind, code__in=codes), Q(id=3)):
        node = compile_where(Item, query)
        expected = sorted(d["id"] for d in docs if matches(node, d))
        assert sorted(x.id for x in await items.find(query)) == expected, query
        assert await items.count(query) == len(expected)


async def _apply(items: Any, op: str, pk: int, kind: str | None, code: int | None) -> None:
    try:
        if op == "insert":
            await items.insert(Item(id=pk, kind=kind, code=code))
        elif op == "replace":
            await items.replace(Item(id=pk, kind=kind, code=code))
        elif op == "set":
            await items.update_ops(pk, {"kind": kind, "code": code})
        else:
            await items.delete(pk)
    except (DuplicateKey, NotFound):  # a taken key, a missing document: nothing changed
        pass
