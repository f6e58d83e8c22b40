"""What SQLite cannot hold or parse: integers beyond 64 bits, lone surrogates, huge queries.

Each is either answered exactly like the memory store (the reference) or refused with a
``ValidationError`` / ``QueryError`` naming the problem (HTTP 422 / 400), never with
``StoreUnavailable`` (503, "try again later") nor with a driver exception (500).
"""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tbone import Model, Q, field
from tbone.errors import DuplicateKey, NotFound, QueryError, ValidationError
from tbone.storage import (
    And,
    CollectionSpec,
    MemoryStore,
    Node,
    Not,
    Or,
    Query,
    Store,
    compile_where,
)
from tbone.storage.query import compile_lookup
from tbone_sqlite import SQLiteStore
from tbone_sqlite._compile import SQLBuilder

BIG = 2**63  # one past the largest SQLite INTEGER
HUGE = 2**64 + 1  # rounds to the same REAL as 2**64


class Counter(Model):
    id: int = field(primary_key=True)
    serial: int | None = field(default=None, unique=True)
    n: int | None = field(default=None, index=True)
    s: str | None = None
    extra: dict[str, Any] = field(factory=dict)


@pytest.fixture
async def store(tmp_path: Path) -> Any:
    async with SQLiteStore(tmp_path / "limits.db") as s:
        yield s


# -- integers beyond 64 bits ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "loc"),
    [
        ({"id": BIG}, ["id"]),
        ({"id": -BIG - 1}, ["id"]),
        ({"id": 1, "serial": HUGE}, ["serial"]),
        ({"id": 1, "n": -(2**70)}, ["n"]),
        ({"id": 1, "extra": {"k": [1, {"deep": BIG}]}}, ["extra", "k", 1, "deep"]),
    ],
)
async def test_integers_beyond_64_bits_are_refused_with_their_place(
    store: SQLiteStore, doc: dict[str, Any], loc: list[Any]
) -> None:
    things = store.collection(Counter)
    with pytest.raises(ValidationError) as info:
        await things.insert(Counter.from_data(doc))
    assert not isinstance(info.value, QueryError)
    assert info.value.errors[0]["loc"] == loc
    assert "64 bits" in info.value.errors[0]["msg"]
    assert await things.count() == 0


async def test_integers_beyond_64_bits_are_refused_in_bulk_and_on_replace(
    store: SQLiteStore,
) -> None:
    things = store.collection(Counter)
    with pytest.raises(ValidationError) as info:
        await things.insert_many([Counter(id=1), Counter(id=2, serial=HUGE)])
    assert info.value.errors[0]["loc"] == [1, "serial"]
    assert await things.count() == 0
    await things.insert(Counter(id=1, serial=2**63 - 1))  # the largest that fits is kept exactly
    with pytest.raises(ValidationError):
        await things.update(1, {"serial": HUGE})
    got = await things.get(1)
    assert got is not None
    assert got.serial == 2**63 - 1


async def test_two_unique_integers_beyond_64_bits_are_no_false_duplicate(
    store: SQLiteStore,
) -> None:
    things = store.collection(Counter)
    await things.insert(Counter(id=1, serial=2**63 - 1))
    with pytest.raises(DuplicateKey):
        await things.insert(Counter(id=2, serial=2**63 - 1))
    for value in (2**64, HUGE):  # would both round to 1.8446744073709552e19
        with pytest.raises(ValidationError) as info:
            await things.insert(Counter(id=3, serial=value))
        assert not isinstance(info.value, DuplicateKey)


async def test_keys_beyond_64_bits_are_simply_absent(store: SQLiteStore) -> None:
    things = store.collection(Counter)
    await things.insert(Counter(id=1))
    assert await things.get(BIG) is None
    assert await things.get(-BIG - 1) is None
    with pytest.raises(NotFound):
        await things.delete(HUGE)
    with pytest.raises(NotFound):
        await things.update(HUGE, {"n": 1})
    with pytest.raises(NotFound):
        await things.replace(Counter(id=HUGE))


@pytest.mark.parametrize(
    "where",
    [
        Q(id=BIG),
        Q(id__in=[1, BIG]),
        Q(serial__gte=-BIG - 1),
        Q(n__lt=HUGE),
        Q(n__nin=[HUGE, 2]),
        Q(extra__k=BIG),
        Q(extra__k__in=[BIG, 2.5]),
    ],
)
async def test_filters_beyond_64_bits_answer_like_the_reference(where: Q) -> None:
    docs = [Counter(id=i, serial=i, n=i, extra={"k": i / 2}) for i in range(1, 6)]
    await _same_answers(docs, where)


# -- lone surrogates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "loc"),
    [
        ({"id": 1, "s": "a\ud800"}, ["s"]),
        ({"id": 1, "extra": {"k\udfff": 1}}, ["extra", "k\\udfff"]),  # shown escaped
        ({"id": 1, "extra": {"k": ["ok", "\udc80"]}}, ["extra", "k", 1]),
    ],
)
async def test_lone_surrogates_in_documents_are_invalid_data(
    store: SQLiteStore, doc: dict[str, Any], loc: list[Any]
) -> None:
    things = store.collection(Counter)
    with pytest.raises(ValidationError) as info:
        await things.insert(Counter.from_data(doc))
    assert info.value.errors[0]["loc"] == loc
    assert "surrogate" in info.value.errors[0]["msg"]
    with pytest.raises(ValidationError):
        await things.insert_many([Counter(id=2), Counter.from_data({**doc, "id": 3})])
    await things.insert(Counter(id=4))
    with pytest.raises(ValidationError):
        await things.replace(Counter.from_data({**doc, "id": 4}))
    assert [c.id for c in await things.find()] == [4]


async def test_lone_surrogates_in_filters_are_query_errors(store: SQLiteStore) -> None:
    class Named(Model):
        name: str = field(primary_key=True)

    names = store.collection(Named)
    await names.insert(Named(name="a"))
    for call in (
        names.find(name="\ud800"),
        names.count(name__in=["a", "\ud800"]),
        names.find(name__startswith="\udfff"),
        names.get("\ud800"),
    ):
        with pytest.raises(QueryError, match="surrogate"):
            await call


# -- queries too big for SQLite's parser --------------------------------------------------------


class Item(Model):
    id: int = field(primary_key=True)
    n: int | None = field(default=None, index=True)
    x: float | None = None
    s: str | None = None
    t: str | None = None
    flag: bool | None = None
    extra: dict[str, Any] = field(factory=dict)


ITEMS = [
    Item(
        id=i,
        n=i,
        x=i / 4,
        s=f"word{i} w\x00{i}" if i % 7 == 0 else f"word{i}",
        t=f"the other {i}",
        flag=i % 2 == 0,
        extra={"k": [i, str(i), i % 3 == 0, None][i % 4]},
    )
    for i in range(60)
]
MANY = 100_000


@pytest.mark.parametrize(
    "where",
    [
        Q(n__in=list(range(MANY))),
        Q(n__nin=list(range(10, MANY))),
        Q(id__in=list(range(-MANY, 20))),
        Q(x__in=[i / 4 for i in range(MANY)]),
        Q(s__in=[f"word{i}" for i in range(MANY)]),
        Q(s__nin=[None, *(f"word{i}" for i in range(0, MANY, 2))]),
        Q(flag__in=[True, None] * (MANY // 2)),
        Q(extra__k__in=[*range(0, MANY, 3), *(str(i) for i in range(MANY)), None]),
        ~Q(extra__k__in=[True, 5.0, *(str(i) for i in range(1, MANY, 2))]),
    ],
    ids=lambda q: repr(q)[:40],
)
async def test_huge_in_lists_answer_like_the_reference(where: Q) -> None:
    await _same_answers(ITEMS, where)


def test_huge_in_lists_use_one_parameter() -> None:
    b = SQLBuilder(itertools.count())
    b.where(compile_where(Item, n__in=list(range(MANY)), s__nin=[str(i) for i in range(MANY)]))
    assert len(b.params) < 10


async def test_two_thousand_search_words(store: SQLiteStore) -> None:
    words = " ".join(["word", "other", *(f"x{i}" for i in range(2_000))])
    for answers in [store, MemoryStore()]:
        async with answers:
            coll = answers.collection(Item)
            await coll.insert_many(ITEMS)
            assert await coll.count(search=words, search_fields=["s", "t"]) == 0
            found = await coll.find(search="word the " * 1_000, search_fields=["s", "t"])
            assert len(found) == len(ITEMS)


@pytest.mark.parametrize("depth", [50, 150, 300])
async def test_deeply_nested_filters_answer_like_the_reference(depth: int) -> None:
    where = Q(n__gte=3)
    for i in range(depth):  # alternating, so nothing flattens: ((a & b) | c) & d ...
        where = (where & Q(n__ne=i)) if i % 2 else (where | Q(s__startswith=f"word{i}"))
    chained = Q(n__lte=55)
    for i in range(depth):
        chained = chained & ~Q(n=i * 3)
    for q in (where, chained, ~~~~where):
        await _same_answers(ITEMS, q)


async def test_a_filter_too_deep_for_the_reference_matcher_is_a_query_error() -> None:
    node: Node = compile_lookup(Item, "n", 1)
    for i in range(5_000):  # built directly: Q would need as many nested calls to compile
        node = Not(node) if i % 2 else And((node, compile_lookup(Item, "n__ne", i)))
    spec = CollectionSpec.of(Item)
    async with SQLiteStore() as store:
        await store.collection(Item).insert(Item(id=1, n=1))
        with pytest.raises(QueryError, match="nested too deeply"):  # asked of the store itself:
            await store.count_docs(spec, Query(where=node))  # core's own walks recurse too
        four = Not(Not(Not(Not(compile_lookup(Item, "n", 1)))))
        assert await store.count_docs(spec, Query(where=four)) == 1


async def test_too_many_parameters_is_a_query_error(store: SQLiteStore) -> None:
    limit = sqlite3.connect(":memory:").getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    wide = Or(tuple(compile_lookup(Item, "n", i) for i in range(limit + 1)))
    coll = store.collection(Item)
    await coll.insert(Item(id=1, n=1))
    with pytest.raises(QueryError, match="too complex for SQLite"):
        await coll.count(wide)


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        ("SELECT ?" + ", ?" * 300_000, [0] * 300_001),
        ("SELECT 1 WHERE " + " AND ".join(["1"] * 1_001), []),
        ("SELECT ? LIKE ?", ["a", "%" * 60_000]),
        ("SELECT 1 WHERE " + "(" * 200 + "1" + ")" * 200, []),
    ],
    ids=["variables", "expression depth", "like pattern", "parser stack"],
)
def test_sqlite_too_complex_errors_are_query_errors(
    sql: str, params: list[Any], tmp_path: Path
) -> None:
    db = sqlite3.connect(":memory:")
    with pytest.raises(sqlite3.Error) as raised:
        db.execute(sql, params)  # a real SQLite refusing a real statement
    store = SQLiteStore(tmp_path / "x.db")
    error = store._translate(raised.value, CollectionSpec.of(Item), None)
    assert isinstance(error, QueryError), error
    assert "too complex for SQLite" in str(error)


async def _same_answers(docs: list[Any], where: Q) -> None:
    expected = await _answers(MemoryStore(), docs, where)
    assert await _answers(SQLiteStore(), docs, where) == expected


async def _answers(store: Store, docs: list[Any], where: Q) -> list[Any]:
    async with store:
        coll = store.collection(type(docs[0]))
        await coll.insert_many([type(d).from_data(d.to_data(full=True)) for d in docs])
        out: list[Any] = [await coll.count(where)]
        out.append([d.id for d in await coll.find(where, order_by=["-id"])])
        out.append([d.id for d in await coll.find(where, order_by=["s"], limit=5, offset=2)])
        out.append(await coll.delete_many(where))
        out.append(await coll.count())
        return out
