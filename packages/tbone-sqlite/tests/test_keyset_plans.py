"""Cursor pages seek an index: primary key comparisons read the ``pk`` column, and a keyset on
an indexed field is led by a bound the planner can use (issue 11, flat pagination)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tbone import Model, field
from tbone.storage import MemoryStore, Store, compile_where, parse_order
from tbone.storage.cursor import after, decode_cursor
from tbone_sqlite import SQLiteStore
from tbone_sqlite._compile import SQLBuilder


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
