"""Cursor pagination: what fetching page 500 costs compared with page 1 (issue 11, target 5b).

The same typed collection of ``ROWS`` books on SQLite and on MongoDB, paged ``LIMIT`` at a time
through ``Collection.find`` (what a resource's list calls), three ways:

- ``cursor, by id``: the default ordering (primary key), resumed from ``Page.next_cursor``;
- ``cursor, by year``: ordered by an indexed field, the primary key breaking ties;
- ``cursor, by -id`` and ``cursor, by -year``: the same two orderings descending;
- ``offset, by id``: ``offset=(page - 1) * LIMIT``, for contrast (deep offsets are not flat: the
  store walks past every skipped document).

The cursor of page 500 is the one page 499 hands out, checked against it (walking 499 pages on
a slow server takes minutes); then page 1 and page 500 are timed side by side (best of several
rounds). The ratio is page 500 time / page 1 time (1.00 = flat; the target is <= 1.5).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bench.results import Section, join, skipped
from bench.timing import ops_per_second
from tbone import Model, field
from tbone.storage import Collection, Store, parse_order
from tbone.storage.cursor import encode_cursor

ROWS = 12_000
LIMIT = 20
DEEP = 500  # the deep page: documents (DEEP - 1) * LIMIT + 1 to DEEP * LIMIT
YEARS = 300


class Book(Model):
    id: str = field(primary_key=True)
    title: str = field(min_length=1)
    author: str
    year: int = field(index=True)
    rating: float = 0.0


def _book(i: int) -> Book:
    # ids scattered (not in year order) so that "by year" and "by id" walk different orders
    pk = f"book-{(i * 7919) % ROWS:08d}"
    return Book(id=pk, title=f"Title {i}", author=f"Author {i % 97}", year=1800 + i % YEARS)


async def _load(store: Store) -> Collection[Book]:
    books = store.collection(Book)
    for start in range(0, ROWS, 1_000):
        await books.insert_many([_book(i) for i in range(start, min(start + 1_000, ROWS))])
    return books


async def _cursor_of(books: Collection[Book], page: int, order_by: tuple[str, ...]) -> str | None:
    """The cursor that resumes after page ``page - 1`` (``None`` for page 1)."""
    if page == 1:
        return None
    (last,) = await books.find(order_by=order_by, limit=1, offset=(page - 1) * LIMIT - 1)
    cursor = encode_cursor(parse_order(Book, order_by), last.to_data(full=True))
    # the same cursor the previous page hands out
    previous = await books.find(order_by=order_by, limit=LIMIT, offset=(page - 2) * LIMIT)
    assert previous.next_cursor == cursor, (previous.next_cursor, cursor)
    return cursor


Fetch = Callable[[], Coroutine[Any, Any, Any]]


async def _cases(books: Collection[Book]) -> dict[str, dict[str, Fetch]]:
    cases: dict[str, dict[str, Fetch]] = {}
    orders = (
        ("cursor, by id", ()),
        ("cursor, by year", ("year",)),
        ("cursor, by -id", ("-id",)),
        ("cursor, by -year", ("-year",)),
    )
    for label, order_by in orders:
        cases[label] = {}
        for page in (1, DEEP):
            cursor = await _cursor_of(books, page, order_by)

            async def fetch(
                cursor: str | None = cursor, order_by: tuple[str, ...] = order_by
            ) -> Any:
                return await books.find(order_by=order_by, limit=LIMIT, cursor=cursor)

            cases[label][f"page {page}"] = fetch
    cases["offset, by id"] = {
        f"page {page}": (lambda o=(page - 1) * LIMIT: books.find(limit=LIMIT, offset=o))
        for page in (1, DEEP)
    }
    return cases


def _measure(loop: asyncio.AbstractEventLoop, store: Store, key: str, title: str) -> Section:
    books = loop.run_until_complete(_load(store))
    cases = loop.run_until_complete(_cases(books))
    lines = [
        title,
        f"  {'paging':18}  {'page 1 ms':>10}  {f'page {DEEP} ms':>12}  {f'{DEEP} / 1':>8}",
    ]
    section = Section("")
    for label, pages in cases.items():
        fns = {
            name: (lambda f=fetch: loop.run_until_complete(f())) for name, fetch in pages.items()
        }
        rates = ops_per_second(fns, rounds=5, min_time=0.1)
        first, deep = 1000 / rates["page 1"], 1000 / rates[f"page {DEEP}"]
        lines.append(f"  {label:18}  {first:10.3f}  {deep:12.3f}  {deep / first:7.2f}x")
        section.add(
            f"{key}/{label}",
            **{"page 1 ms": first, f"page {DEEP} ms": deep, "deep/first": deep / first},
        )
    section.text = "\n".join(lines)
    return section


def _sqlite(loop: asyncio.AbstractEventLoop) -> Section:
    from tbone_sqlite import SQLiteStore

    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "pages.db")
        loop.run_until_complete(store.open())
        try:
            title = (
                f"Cursor pagination on SQLite: page {DEEP} vs page 1, {ROWS:,} books, {LIMIT}/page"
            )
            return _measure(loop, store, "pagination/sqlite", title)
        finally:
            loop.run_until_complete(store.aclose())


def _mongo(loop: asyncio.AbstractEventLoop) -> Section:
    try:
        from tbone_mongo import MongoStore
        from tbone_mongo.testing import MongoServer
    except ImportError as exc:
        return skipped(f"Cursor pagination on MongoDB: skipped — {exc.name} is not installed")
    server = MongoServer.from_environment().start()
    try:
        store = MongoStore(server.database_url("bench_pages"))
        loop.run_until_complete(store.open())
        try:
            loop.run_until_complete(store.database.client.drop_database("bench_pages"))
            title = (
                f"Cursor pagination on MongoDB ({server.kind}): page {DEEP} vs page 1, "
                f"{ROWS:,} books, {LIMIT}/page"
            )
            return _measure(loop, store, "pagination/mongodb", title)
        finally:
            loop.run_until_complete(store.database.client.drop_database("bench_pages"))
            loop.run_until_complete(store.aclose())
    finally:
        server.close()


def run() -> Section:
    """Both stores' tables."""
    loop = asyncio.new_event_loop()
    try:
        return join(_sqlite(loop), _mongo(loop))
    finally:
        loop.close()


if __name__ == "__main__":  # python -m bench.pagination
    print(run().text)
