"""Kit behaviours: atomic update operators (``inc``, ``push``, ``add_to_set``, ``pull``).

Every store passes these, natively (``native_ops``) or through ``Store.update_ops``'s default
read + compare-and-swap: results and their types, bounds and lengths refused with nothing
changed, bad operators refused before any write, versions, unique fields, and concurrent
decrements of one counter that lose none and never cross the bound.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tbone.data import Model, field, new_id, version_of
from tbone.errors import Conflict, DuplicateKey, NotFound, ValidationError
from tbone.storage import Collection, Q, Store, each
from tbone.storage.ops import apply_ops, compile_ops

from .kit import Behaviour, behaviour

__all__ = ["BEHAVIOURS", "KitLists", "KitStock", "KitSupplier"]


class KitSupplier(Model):
    name: str = ""
    rating: int = field(default=0, ge=0, le=5)


class KitStock(Model):
    """A stock counter and its neighbours: bounded numbers, lists, a nested model, a dict."""

    id: str = field(factory=new_id, primary_key=True)
    sku: int | None = field(default=None, unique=True)
    stock: int = field(default=0, ge=0)
    price: float = 1.0
    tags: list[str] = field(factory=list, max_length=5)
    codes: list[int] = field(factory=list)
    note: str = ""
    maybe: int | None = None
    supplier: KitSupplier = field(factory=KitSupplier)
    counts: dict[str, int] = field(factory=dict)


def stock(store: Store) -> Collection[KitStock]:
    return store.collection(KitStock, "kit_stock")


async def _raises(exc: type[BaseException], coro: Any) -> Any:
    try:
        await coro
    except exc as caught:
        return caught
    raise AssertionError(f"expected {exc.__name__}")


async def _unchanged(coll: Collection[KitStock], obj: KitStock) -> None:
    got = await coll.get(obj.id)
    assert got == obj, f"a refused update changed the document: {got!r}"
    assert got is not None
    assert version_of(got) == version_of(obj)


def _locs(err: ValidationError) -> set[tuple[str | int, ...]]:
    return {tuple(e["loc"]) for e in err.errors}


@behaviour("ops_inc")
async def ops_inc(store: Store) -> None:
    """inc adds to int and float fields, into nested models and dicts; ints stay ints."""
    coll = stock(store)
    obj = await coll.insert(KitStock(stock=3, price=2.5, counts={"views": 7}))
    got = await coll.update(
        obj.id, inc={"stock": 4, "price": 2, "supplier.rating": 1, "counts.views": -7}
    )
    assert (got.stock, got.price, got.supplier.rating, got.counts) == (7, 4.5, 1, {"views": 0})
    assert type(got.stock) is int
    assert type(got.price) is float
    assert type(got.counts["views"]) is int
    assert version_of(got) == 2
    read = await coll.get(obj.id)
    assert read == got
    assert read is not None
    assert type(read.stock) is int
    assert type(read.price) is float
    assert version_of(read) == 2
    again = await coll.update(obj.id, inc={"price": -4.5, "stock": 0})
    assert (again.price, again.stock, version_of(again)) == (0.0, 7, 3)
    assert type(again.price) is float


@behaviour("ops_lists")
async def ops_lists(store: Store) -> None:
    """push appends (each() several), add_to_set skips held items, pull removes them all."""
    coll = stock(store)
    obj = await coll.insert(KitStock(tags=["a"]))
    got = await coll.update(obj.id, push={"tags": "b", "codes": each(3, 3, 4)})
    assert (got.tags, got.codes) == (["a", "b"], [3, 3, 4])
    got = await coll.update(obj.id, add_to_set={"tags": each("a", "c", "c"), "codes": 5})
    assert (got.tags, got.codes) == (["a", "b", "c"], [3, 3, 4, 5])
    got = await coll.update(obj.id, pull={"codes": 3, "tags": each("a", "zz")})
    assert (got.tags, got.codes) == (["b", "c"], [4, 5])
    assert version_of(got) == 4
    assert await coll.get(obj.id) == got
    got = await coll.update(obj.id, push={"tags": 'ü \u2603 "q" \\'})
    assert got.tags[-1] == 'ü \u2603 "q" \\'
    assert await coll.get(obj.id) == got


class KitLists(Model):
    """Lists of every plain item type, for list operators compared with the memory store."""

    id: str = field(factory=new_id, primary_key=True)
    words: list[str] = field(factory=list)
    flags: list[bool] = field(factory=list)
    reals: list[float] = field(factory=list)
    ints: list[int] = field(factory=list)
    few: list[int] = field(factory=list, min_length=1, max_length=4)


_LIST_STEPS: tuple[dict[str, Any], ...] = (
    {"push": {"words": each("a", "a\u0000b", "", "\u00e9", 'q"\\')}},
    {"add_to_set": {"words": each("a", "a\u0000b", "a\u0000", "z", "z")}},
    {"pull": {"words": each("a", "nothing")}},
    {"pull": {"words": "a\u0000"}},
    {"add_to_set": {"flags": each(True, False, True)}},
    {"push": {"flags": True, "reals": each(0.1, 0.30000000000000004, 1.0, -0.0)}},
    {"pull": {"flags": False}, "add_to_set": {"reals": each(0.3, 1.0, 2.5)}},
    {"pull": {"reals": each(0.30000000000000004, 1.0)}},
    {"add_to_set": {"ints": each(1, 2, 1, 2**40)}, "push": {"few": 2}},
    {"pull": {"ints": 2}, "add_to_set": {"few": each(1, 2, 3)}},
    {"add_to_set": {"few": each(1, 7, 8)}},  # would make 5 items: refused
    {"pull": {"few": each(1, 2, 3)}},  # would leave none: refused
    {"pull": {"few": each(1, 3)}},
)


@behaviour("ops_lists_reference")
async def ops_lists_reference(store: Store) -> None:
    """push, add_to_set and pull on str/bool/float/int lists give what the memory store gives,
    texts with NUL and quotes included; length limits are refused the same way."""
    from tbone.storage import MemoryStore  # the reference, made here per run

    coll = store.collection(KitLists, "kit_lists")
    ref = MemoryStore().collection(KitLists, "kit_lists")
    obj = KitLists(few=[1])
    await coll.insert(obj)
    await ref.insert(KitLists(id=obj.id, few=[1]))
    for step in _LIST_STEPS:
        outcomes: list[Any] = []
        for c in (ref, coll):
            try:
                outcomes.append((await c.update(obj.id, **step)).to_data(full=True))
            except ValidationError as exc:
                outcomes.append([e["type"] for e in exc.errors])
        assert outcomes[1] == outcomes[0], (step, outcomes)
    assert (await coll.get(obj.id)) == (await ref.get(obj.id))


@behaviour("ops_with_changes")
async def ops_with_changes(store: Store) -> None:
    """changes set fields in the same atomic step; update_ops returns (before, after)."""
    coll = stock(store)
    obj = await coll.insert(KitStock(stock=5, note="old"))
    before, after = await coll.update_ops(
        obj.id,
        {"note": "sold one", "supplier": {"name": "ACME", "rating": 2}},
        inc={"stock": -1},
        push={"tags": "sale"},
    )
    assert before == obj
    assert version_of(before) == 1
    assert (after.stock, after.note, after.tags, after.supplier.name) == (
        4,
        "sold one",
        ["sale"],
        "ACME",
    )
    assert version_of(after) == 2
    assert await coll.get(obj.id) == after


@behaviour("ops_bounds")
async def ops_bounds(store: Store) -> None:
    """A result outside a bound or a length is a ValidationError, and nothing changes."""
    coll = stock(store)
    obj = await coll.insert(KitStock(stock=1, supplier=KitSupplier(rating=5), tags=list("abcde")))
    err = await _raises(ValidationError, coll.update(obj.id, inc={"stock": -2}))
    assert _locs(err) == {("stock",)}
    assert err.errors[0]["type"] == "ge"
    await _unchanged(coll, obj)
    err = await _raises(ValidationError, coll.update(obj.id, inc={"supplier.rating": 1}))
    assert _locs(err) == {("supplier", "rating")}
    await _unchanged(coll, obj)
    # one failing operator refuses them all
    err = await _raises(
        ValidationError, coll.update(obj.id, {"note": "x"}, inc={"stock": 1}, push={"tags": "f"})
    )
    assert _locs(err) == {("tags",)}
    await _unchanged(coll, obj)
    got = await coll.update(obj.id, inc={"stock": -1}, add_to_set={"tags": "a"})
    assert (got.stock, got.tags, version_of(got)) == (0, list("abcde"), 2)


@behaviour("ops_refused")
async def ops_refused(store: Store) -> None:
    """Unknown fields, inc on non-numbers, wrong item types: refused, nothing changes."""
    coll = stock(store)
    obj = await coll.insert(KitStock(stock=2))
    bad: list[tuple[dict[str, Any], tuple[str | int, ...]]] = [
        ({"inc": {"nope": 1}}, ("nope",)),
        ({"inc": {"supplier.nope": 1}}, ("supplier", "nope")),
        ({"inc": {"note": 1}}, ("note",)),
        ({"inc": {"tags": 1}}, ("tags",)),
        ({"inc": {"supplier": 1}}, ("supplier",)),
        ({"inc": {"stock": 1.5}}, ("stock",)),
        ({"inc": {"stock": "1"}}, ("stock",)),
        ({"inc": {"stock": True}}, ("stock",)),
        ({"inc": {"price": float("nan")}}, ("price",)),
        ({"inc": {"id": 1}}, ("id",)),
        ({"inc": {"stock.x": 1}}, ("stock", "x")),
        ({"inc": {"a$b": 1}}, ("a$b",)),
        ({"push": {"codes": "x"}}, ("codes",)),
        ({"push": {"codes": each(1, "x")}}, ("codes", 1)),
        ({"push": {"note": "x"}}, ("note",)),
        ({"push": {"nope": "x"}}, ("nope",)),
        ({"pull": {"stock": 1}}, ("stock",)),
        ({"changes": {"stock": -1}}, ("stock",)),
        ({"changes": {"nope": 1}}, ("nope",)),
        (
            {"inc": {"stock": 1, "supplier.rating": 1}, "changes": {"supplier": {}}},
            ("supplier", "rating"),
        ),
    ]
    for kwargs, loc in bad:
        changes = kwargs.pop("changes", None)
        err = await _raises(ValidationError, coll.update(obj.id, changes, **kwargs))
        assert loc in _locs(err), (kwargs, err.errors)
    await _unchanged(coll, obj)
    # null where a number or a list is needed: refused by the store, nothing changes
    err = await _raises(ValidationError, coll.update(obj.id, inc={"maybe": 1, "stock": 1}))
    assert _locs(err) == {("maybe",)}
    err = await _raises(ValidationError, coll.update(obj.id, inc={"counts.gone": 1}))
    assert _locs(err) == {("counts", "gone")}
    await _unchanged(coll, obj)


@behaviour("ops_hostile")
async def ops_hostile(store: Store) -> None:
    """Extreme amounts and odd values: applied exactly or refused with a ValidationError
    (a store may hold fewer integers than Python), never another error, never half applied."""
    coll = stock(store)
    obj = await coll.insert(KitStock(stock=5, price=1.0))
    cases: list[dict[str, Any]] = [
        {"inc": {"stock": 10**30}},
        {"inc": {"stock": 2**63}},
        {"inc": {"stock": 2**53 + 1}},
        {"inc": {"price": 1e308}},
        {"inc": {"price": -1e308}},
        {"push": {"tags": "x" * 100_000}},
        {"push": {"tags": "\u0000 \ud7ff \U0001f600"}},
        {"push": {"codes": each(*range(-(2**62), -(2**62) + 500))}},
        {"push": {"codes": 10**30}},
        {"push": {"tags": "lone \ud800 surrogate"}},
        {"changes": {"note": "lone \udfff"}, "inc": {"stock": 1}},
        {"changes": {"note": "\u0000\"'}]"}, "inc": {"counts.x": 1}},
    ]
    many = await coll.insert(KitStock(counts={f"k{i}": i for i in range(300)}))
    got = await coll.update(many.id, inc={f"counts.k{i}": 1 for i in range(300)})
    assert got.counts == {f"k{i}": i + 1 for i in range(300)}
    assert await coll.get(many.id) == got
    for kwargs in cases:
        current = await coll.get(obj.id)
        assert current is not None
        changes = kwargs.pop("changes", None)
        try:
            got = await coll.update(obj.id, changes, **kwargs)
        except ValidationError:
            assert await coll.get(obj.id) == current, kwargs
            continue
        want = apply_ops(current.to_data(full=True), _compiled(changes, kwargs))
        assert got.to_data(full=True) == want, kwargs
        assert await coll.get(obj.id) == got


def _compiled(changes: Any, kwargs: dict[str, Any]) -> Any:
    return compile_ops(KitStock, pk="id", changes=changes, **kwargs)


@behaviour("ops_versions")
async def ops_versions(store: Store) -> None:
    """Every applied update bumps the version; a stale expect_version is a Conflict."""
    coll = stock(store)
    obj = await coll.insert(KitStock(stock=2))
    got = await coll.update(obj.id, inc={"stock": 1}, expect_version=1)
    assert version_of(got) == 2
    await _raises(Conflict, coll.update(obj.id, inc={"stock": 1}, expect_version=1))
    await _unchanged(coll, got)
    got = await coll.update(obj.id, push={"tags": "x"}, expect_version=2)
    assert (got.stock, got.tags, version_of(got)) == (3, ["x"], 3)


@behaviour("ops_missing")
async def ops_missing(store: Store) -> None:
    coll = stock(store)
    await _raises(NotFound, coll.update("nope", inc={"stock": 1}))
    await _raises(NotFound, coll.update("nope", push={"tags": "x"}, expect_version=1))


@behaviour("ops_unique", requires="unique")
async def ops_unique(store: Store) -> None:
    """A unique field incremented into a taken value: DuplicateKey, nothing changes."""
    coll = stock(store)
    one = await coll.insert(KitStock(sku=1))
    await coll.insert(KitStock(sku=2))
    err = await _raises(DuplicateKey, coll.update(one.id, inc={"sku": 1}, push={"tags": "x"}))
    assert err.field == "sku"
    await _unchanged(coll, one)
    got = await coll.update(one.id, inc={"sku": 2})
    assert got.sku == 3
    assert await coll.count(sku=3) == 1
    assert await coll.count(sku=1) == 0
    assert [o.id for o in await coll.find(sku=3)] == [one.id]
    await coll.insert(KitStock(sku=1))  # the value it left is free again


@behaviour("ops_concurrent_decrements")
async def ops_concurrent_decrements(store: Store) -> None:
    """50 concurrent decrements of one counter: none is lost."""
    coll = stock(store)
    obj = await coll.insert(KitStock(stock=100))
    await asyncio.gather(*(coll.update(obj.id, inc={"stock": -1}) for _ in range(50)))
    got = await coll.get(obj.id)
    assert got is not None
    assert (got.stock, version_of(got)) == (50, 51), (got.stock, version_of(got))


@behaviour("ops_where")
async def ops_where(store: Store) -> None:
    """``where`` (a scope) must match the document, else NotFound and nothing changes; 50
    concurrent decrements under one still lose none."""
    coll = stock(store)
    mine = await coll.insert(KitStock(stock=60, note="ann"))
    theirs = await coll.insert(KitStock(stock=5, note="bob"))
    await _raises(NotFound, coll.update_ops(theirs.id, inc={"stock": -1}, where={"note": "ann"}))
    await _unchanged(coll, theirs)
    await _raises(NotFound, coll.update_ops("nope", inc={"stock": -1}, where={"note": "ann"}))
    before, after = await coll.update_ops(mine.id, inc={"stock": -1}, where=Q(note="ann"))
    assert (before.stock, after.stock, version_of(after)) == (60, 59, 2)
    await asyncio.gather(
        *(coll.update_ops(mine.id, inc={"stock": -1}, where={"note": "ann"}) for _ in range(50))
    )
    got = await coll.get(mine.id)
    assert got is not None
    assert (got.stock, version_of(got)) == (9, 52)
    await _raises(
        Conflict,
        coll.update_ops(mine.id, inc={"stock": -1}, where={"note": "ann"}, expect_version=1),
    )


@behaviour("ops_concurrent_bound")
async def ops_concurrent_bound(store: Store) -> None:
    """50 concurrent decrements of a counter at 30 (ge=0): 30 pass, 20 are refused, none
    lost, and the counter never goes below its bound."""
    coll = stock(store)
    obj = await coll.insert(KitStock(stock=30))
    results = await asyncio.gather(
        *(coll.update(obj.id, inc={"stock": -1}) for _ in range(50)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, ValidationError) for r in refused), refused
    assert len(refused) == 20, len(refused)
    got = await coll.get(obj.id)
    assert got is not None
    assert (got.stock, version_of(got)) == (0, 31)


BEHAVIOURS: tuple[Behaviour, ...] = (
    ops_inc,
    ops_lists,
    ops_lists_reference,
    ops_with_changes,
    ops_bounds,
    ops_refused,
    ops_hostile,
    ops_versions,
    ops_missing,
    ops_unique,
    ops_concurrent_decrements,
    ops_where,
    ops_concurrent_bound,
)
