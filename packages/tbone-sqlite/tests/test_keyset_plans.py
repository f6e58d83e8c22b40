"""Cursor pages seek an index: primary key comparisons read the ``pk`` column, and a keyset on
an indexed field is led by a bound the planner can use, descending ones split in two halves
(``x < v`` and ``x IS NULL``) that it can seek (issue 11, flat pagination)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tbone import Model, field
from tbone.storage import (
    And,
    CollectionSpec,
    MemoryStore,
    Or,
    Query,
    Store,
    compile_where,
    parse_order,
)
from tbone.storage.cursor import after, decode_cursor
from tbone_sqlite import SQLiteStore
from tbone_sqlite._compile import SQLBuilder
from tbone_sqlite._halves import halves


class Book(Model):
    id: str = field(primary_key=True)
    year: int | None = field(default=None, index=True)


@pytest.fixture
async def store(tmp_path: Path) -> Any:
    async with SQLiteStore(tmp_path / "books.db") as s:
        yield s


async def _plan(store: SQLiteStore, order_by: tuple[str, ...], cursor: str) -> str:
    order = parse_order(Book, order_by)
    b = SQLBuilder(itertools.count(1), "id")
    where = b.where(after(order, decode_cursor(order, cursor)))
    sql = f'SELECT doc FROM "book" WHERE {where} ORDER BY {b.order_by(order, "id")} LIMIT 5'
    assert store._db is not None
    rows = await store._db.execute_fetchall(f"EXPLAIN QUERY PLAN {sql}", b.params)
    return " ".join(str(row) for row in rows)


async def test_cursor_pages_search_an_index(store: SQLiteStore) -> None:
    books = store.collection(Book)
    await books.insert_many([Book(id=f"b{i:03}", year=i % 7) for i in range(60)])
    by_id = await books.find(limit=5)
    assert by_id.next_cursor is not None
    plan = await _plan(store, (), by_id.next_cursor)
    assert "SEARCH book USING INDEX sqlite_autoindex_book_1 (pk>?)" in plan, plan
    by_year = await books.find(order_by=["year"], limit=5)
    assert by_year.next_cursor is not None
    plan = await _plan(store, ("year",), by_year.next_cursor)
    assert "SEARCH book USING INDEX book__tbone_index_year" in plan, plan


KEYS = ["a", "a\0b", "a\0", "b", "", "ab", "é", "a\0a"]


async def _ids(store: Store, **lookups: Any) -> list[str]:
    return [b.id for b in await store.collection(Book).find(**lookups)]


@pytest.mark.parametrize(
    "lookups",
    [
        {"id__gt": "a"},
        {"id__gte": "a\0"},
        {"id__lt": "a\0b"},
        {"id__lte": "ab"},
        {"id": "a\0b"},
        {"id": "a"},
        {"id__ne": "a"},
        {"id__in": ["a", "b", "zz"]},
        {"id__in": ["a\0b", "b"]},
        {"id__nin": ["a", ""]},
        {"id__in": []},
    ],
)
async def test_primary_key_comparisons_match_the_reference(
    store: SQLiteStore, lookups: dict[str, Any]
) -> None:
    reference = MemoryStore()
    for s in (store, reference):
        await s.collection(Book).insert_many([Book(id=k, year=i) for i, k in enumerate(KEYS)])
    assert await _ids(store, **lookups) == await _ids(reference, **lookups)
    node = compile_where(Book, **lookups)
    assert await store.collection(Book).count(node) == await reference.collection(Book).count(node)


async def _plan_of_find(store: SQLiteStore, order_by: tuple[str, ...], cursor: str) -> str:
    """The query plan of the statement the store runs for that page."""
    statements: list[str] = []
    assert store._db is not None
    await store._db.set_trace_callback(statements.append)
    try:
        await store.collection(Book).find(order_by=order_by, limit=5, cursor=cursor)
    finally:
        await store._db.set_trace_callback(None)
    (sql,) = [s for s in statements if s.startswith("SELECT")]
    rows = await store._db.execute_fetchall(f"EXPLAIN QUERY PLAN {sql}")
    return " ".join(str(row) for row in rows)


async def test_descending_cursor_pages_search_an_index(store: SQLiteStore) -> None:
    books = store.collection(Book)
    await books.insert_many([Book(id=f"b{i:03}", year=i % 7 or None) for i in range(60)])
    by_id = await books.find(order_by=["-id"], limit=5)
    assert by_id.next_cursor is not None
    plan = await _plan_of_find(store, ("-id",), by_id.next_cursor)
    assert "SEARCH book USING INDEX sqlite_autoindex_book_1 (pk<?)" in plan, plan
    by_year = await books.find(order_by=["-year"], limit=5)
    assert by_year.next_cursor is not None
    plan = await _plan_of_find(store, ("-year",), by_year.next_cursor)
    assert "SEARCH book USING INDEX book__tbone_index_year (<expr><?)" in plan, plan
    assert "SCAN book" not in plan, plan


YEARS = [None, 0, 1, 1, 2, 5, None, 5, 5, 3, None, 0]


@pytest.fixture
async def both(store: SQLiteStore) -> tuple[SQLiteStore, MemoryStore]:
    reference = MemoryStore()
    docs = [Book(id=f"b{(i * 5) % len(YEARS):02}", year=y) for i, y in enumerate(YEARS)]
    for s in (store, reference):
        await s.collection(Book).insert_many(docs)
    return store, reference


@pytest.mark.parametrize("order_by", [("-year",), ("-year", "-id"), ("-id",)])
@pytest.mark.parametrize("limit", [1, 2, 5, 20])
@pytest.mark.parametrize("where", [{}, {"id__ne": "b05"}, {"year__lte": 3}])
async def test_descending_cursor_walks_match_the_reference(
    both: tuple[SQLiteStore, MemoryStore],
    order_by: tuple[str, ...],
    limit: int,
    where: dict[str, Any],
) -> None:
    walks = []
    for s in both:
        books, seen, cursor = s.collection(Book), [], None
        while True:
            page = await books.find(order_by=order_by, limit=limit, cursor=cursor, **where)
            seen += [(b.id, b.year) for b in page]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        walks.append(seen)
    assert walks[0] == walks[1]
    everything = await both[1].collection(Book).find(order_by=order_by, **where)
    assert walks[0] == [(b.id, b.year) for b in everything]


@pytest.mark.parametrize("offset", [0, 1, 3, 9])
@pytest.mark.parametrize("inclusive", [False, True])
@pytest.mark.parametrize("fields", [None, frozenset({"id"})])
async def test_a_split_window_is_the_single_querys_window(
    both: tuple[SQLiteStore, MemoryStore],
    offset: int,
    inclusive: bool,
    fields: frozenset[str] | None,
) -> None:
    """``year < 3 OR year is null`` (``<=`` too), any offset, a projection: the rows of the
    two halves are those of the whole, in its order."""
    order = parse_order(Book, ["-year"])
    year = compile_where(Book, **{"year__lte" if inclusive else "year__lt": 3}, id__ne="b01")
    assert isinstance(year, And)
    below, other = year.children
    null = compile_where(Book, year__exists=False)
    assert null is not None
    where = And((other, Or((null, below))))
    spec = CollectionSpec.of(Book)
    query = Query(where, order, 3, offset, fields)
    assert halves(query, "id") is not None
    got, expected = [await s.find_docs(spec, query) for s in both]
    assert got == expected
