"""SQLite-specific behaviour: URLs, errors, schema, SQL push-down, bound values, concurrency."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import tbone
from tbone import Model, Q, field
from tbone.data import version_of
from tbone.errors import Conflict, DuplicateKey, NotFound, StoreUnavailable
from tbone.storage import CollectionSpec, Query, compile_where, parse_order
from tbone_sqlite import SQLiteStore
from tbone_sqlite._compile import SQLBuilder


class Book(Model):
    title: str
    year: int | None = field(default=None, index=True)
    isbn: str | None = field(default=None, unique=True)
    added: dt.datetime | None = None


class BookNoUnique(Model):
    title: str
    year: int | None = None
    isbn: str | None = None


@pytest.fixture
async def store(tmp_path: Path) -> Any:
    async with SQLiteStore(tmp_path / "books.db") as s:
        yield s


# -- URLs and connecting ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "path", "sync"),
    [
        ("sqlite:///books.db", "books.db", "NORMAL"),
        ("sqlite:///data/books.db", "data/books.db", "NORMAL"),
        ("sqlite:////var/lib/books.db", "/var/lib/books.db", "NORMAL"),
        ("sqlite:///:memory:", ":memory:", "NORMAL"),
        ("sqlite:///b%20c.db?synchronous=full", "b c.db", "FULL"),
    ],
)
def test_url_forms(url: str, path: str, sync: str) -> None:
    store = SQLiteStore.from_url(url)
    assert (store.path, store.synchronous) == (path, sync)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite://host/books.db",
        "mysql:///x",
        "sqlite:///x.db?nope=1",
        "sqlite:///x.db?synchronous=maybe",
        "sqlite:///x.db?timeout=soon",
    ],
)
def test_bad_urls_say_what_to_write(url: str) -> None:
    with pytest.raises(ValueError, match=r"sqlite|synchronous|timeout|option"):
        SQLiteStore.from_url(url)


def test_connect_finds_the_plugin_by_scheme(tmp_path: Path) -> None:
    store = tbone.connect(f"sqlite:///{tmp_path / 'x.db'}")
    assert isinstance(store, SQLiteStore)
    assert store.supports("unique")
    assert store.supports("atomic_bulk")


async def test_unopenable_file_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="nowhere") as info:
        await SQLiteStore(tmp_path / "nowhere" / "books.db").open()
    assert isinstance(info.value.__cause__, sqlite3.Error)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreUnavailable):
        await SQLiteStore(junk).open()


async def test_closed_store_is_unavailable_for_every_method(store: SQLiteStore) -> None:
    spec = CollectionSpec.of(Book)
    await store.collection(Book).insert(Book(title="x"))
    await store.aclose()
    await store.aclose()  # idempotent
    for call in (
        store.insert_docs(spec, [Book(title="y").to_data(full=True)]),
        store.find_docs(spec, Query()),
        store.count_docs(spec, Query()),
        store.get_docs(spec, ["a"]),
        store.replace_doc(spec, "a", {}, None),
        store.delete_doc(spec, "a", None),
    ):
        with pytest.raises(StoreUnavailable, match="closed"):
            await call


async def test_used_without_async_with_it_connects_on_first_use(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "lazy.db")
    await store.collection(Book).insert(Book(title="x"))
    assert await store.collection(Book).count() == 1
    await store.aclose()


async def test_wal_mode_and_data_survive_reopening(tmp_path: Path) -> None:
    async with SQLiteStore(tmp_path / "b.db") as s:
        book = await s.collection(Book).insert(Book(title="Dune", year=1965))
        await s.collection(Book).update(book.id, {"year": 1966})
    async with SQLiteStore(tmp_path / "b.db") as s:
        got = await s.collection(Book).get(book.id)
        assert got is not None
        assert (got.year, version_of(got)) == (1966, 2)
    with sqlite3.connect(tmp_path / "b.db") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


# -- errors ------------------------------------------------------------------------------------


async def test_duplicate_key_names_field_and_value(store: SQLiteStore) -> None:
    books = store.collection(Book)
    first = await books.insert(Book(title="a", isbn="111"))
    with pytest.raises(DuplicateKey, match="isbn '111'") as info:
        await books.insert(Book(title="b", isbn="111"))
    assert info.value.field == "isbn"
    assert isinstance(info.value.__cause__, sqlite3.IntegrityError)
    with pytest.raises(DuplicateKey) as info:
        await books.insert(Book(id=first.id, title="c"))
    assert info.value.field == "id"
    other = await books.insert(Book(title="d", isbn="222"))
    with pytest.raises(DuplicateKey) as info:
        await books.update(other.id, {"isbn": "111"})
    assert info.value.field == "isbn"
    with pytest.raises(DuplicateKey) as info:
        await books.insert_many([Book(title="e", isbn="333"), Book(title="f", isbn="333")])
    assert info.value.field == "isbn"
    assert await books.count() == 2


async def test_not_found_and_conflict(store: SQLiteStore) -> None:
    books = store.collection(Book)
    book = await books.insert(Book(title="a"))
    with pytest.raises(Conflict, match="version 1, not 7"):
        await books.delete(book.id, expect_version=7)
    with pytest.raises(NotFound):
        await books.delete("missing", expect_version=1)
    with pytest.raises(NotFound):
        await books.replace(Book(title="ghost"))


# -- schema ------------------------------------------------------------------------------------


def _indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    return {name for (name,) in rows if "tbone" in name}


async def test_indexes_follow_the_model(tmp_path: Path) -> None:
    path = tmp_path / "b.db"
    async with SQLiteStore(path) as s:
        await s.collection(Book, "books").insert(Book(title="a", isbn="1"))
    # unique=True implies index=True: isbn gets a NUL-safe unique key and a lookup index
    assert _indexes(path) == {
        "books__tbone_unique_isbn",
        "books__tbone_index_isbn",
        "books__tbone_index_year",
    }
    async with SQLiteStore(path) as s:  # the same table, now without unique/index fields
        books = s.collection(BookNoUnique, "books")
        await books.insert(BookNoUnique(title="b", isbn="1"))
        assert await books.count(isbn="1") == 2
    assert _indexes(path) == set()


async def test_adding_unique_over_duplicates_names_the_field(tmp_path: Path) -> None:
    async with SQLiteStore(tmp_path / "b.db") as s:
        await s.collection(BookNoUnique, "books").insert_many(
            [BookNoUnique(title="a", isbn="1"), BookNoUnique(title="b", isbn="1")]
        )
        with pytest.raises(DuplicateKey) as info:
            await s.collection(Book, "books").count()
        assert info.value.field == "isbn"


async def test_collection_names_are_quoted(store: SQLiteStore) -> None:
    odd = store.collection(Book, 'we"ird name; DROP TABLE x')
    await odd.insert(Book(title="a", year=1))
    assert await odd.count(year=1) == 1
    with pytest.raises(ValueError, match="reserved"):
        await store.collection(Book, "sqlite_master").count()


# -- SQL: values are bound, typed filters run in SQL, indexes are used ------------------------


def _sql(*where: Q, order_by: list[str] | None = None) -> tuple[str, list[Any], int]:
    b = SQLBuilder(iter(range(1, 1000)))
    text = b.where(compile_where(Book, *where))
    text += " ORDER BY " + str(b.order_by(parse_order(Book, order_by or []), "id"))
    return text, b.params, len(b.python)


@pytest.mark.parametrize(
    "where",
    [
        Q(year=1965),
        Q(year__gte=1960) & ~Q(year__in=[1970, None]),
        Q(title__startswith="Du") | Q(title__icontains="UNE"),
        Q(isbn=None) | Q(isbn__nin=["1", "2"]),
        Q(year__exists=False),
    ],
)
def test_typed_filters_compile_to_sql_only(where: Q) -> None:
    text, params, _in_python = _sql(where, order_by=["-year", "title"])
    # The reference matcher is only asked about rows holding a NUL (see _compile).
    only_nul_rows = text.replace("NOT nul OR tbone_match", "").replace("ELSE tbone_match", "")
    assert "tbone_match" not in only_nul_rows
    for value in params:
        assert str(value) not in text or isinstance(value, int)


def test_values_never_enter_sql_text() -> None:
    evil = "'); DROP TABLE books; --"
    text, params, _ = _sql(Q(title=evil) | Q(isbn__contains=evil) | Q(title__gt=evil))
    assert evil not in text
    assert params.count(evil) == 3


def test_datetimes_are_compared_by_the_reference() -> None:
    # Offsets make ISO strings order differently from instants: SQL cannot compare them.
    text, _, in_python = _sql(Q(added__gte=dt.datetime(2024, 1, 1, tzinfo=dt.UTC)))
    assert "tbone_match" in text
    assert in_python == 1


async def test_indexed_equality_uses_the_index(store: SQLiteStore) -> None:
    books = store.collection(Book)
    await books.insert_many([Book(title=str(i), year=i, isbn=str(i)) for i in range(50)])
    b = SQLBuilder(iter(range(1, 10)))
    where = b.where(compile_where(Book, year=7, isbn="7"))
    assert store._db is not None
    plan = await store._db.execute_fetchall(
        f'EXPLAIN QUERY PLAN SELECT doc FROM "book" WHERE {where}', b.params
    )
    assert "USING INDEX book__tbone_" in " ".join(str(row) for row in plan)
    assert [x.year for x in await books.find(year=7)] == [7]


async def test_strings_with_nul_compare_in_full(store: SQLiteStore) -> None:
    books = store.collection(Book)
    await books.insert_many([Book(title="a\0b", isbn="a\0b"), Book(title="a", isbn="a")])
    assert [x.title for x in await books.find(title="a")] == ["a"]
    assert [x.title for x in await books.find(isbn="a\0b")] == ["a\0b"]
    assert [x.title for x in await books.find(order_by=["-title"])] == ["a\0b", "a"]
    assert await books.count(title__contains="\0b") == 1
    with pytest.raises(DuplicateKey):  # equal values with a NUL still collide
        await books.insert(Book(title="c", isbn="a\0b"))


# -- concurrency -----------------------------------------------------------------------------


async def test_concurrent_read_modify_write_loses_no_update(store: SQLiteStore) -> None:
    books = store.collection(Book)
    book = await books.insert(Book(title="counter", year=0))

    async def bump() -> None:
        for _ in range(50):
            current = await books.get(book.id)
            assert current is not None
            try:
                await books.update(
                    book.id, {"year": (current.year or 0) + 1}, expect_version=version_of(current)
                )
                return
            except Conflict:
                await asyncio.sleep(0)
        raise AssertionError("never got through")

    await asyncio.gather(*(bump() for _ in range(20)))
    final = await books.get(book.id)
    assert final is not None
    assert (final.year, version_of(final)) == (20, 21)


async def test_readers_never_see_half_a_batch(store: SQLiteStore) -> None:
    books = store.collection(Book)
    await books.count()
    counts: list[int] = []

    async def write() -> None:
        for n in range(5):
            batch = [Book(title=f"{n}-{i}") for i in range(200)]
            if n % 2:
                batch.append(Book(id=batch[0].id, title="duplicate: the batch fails"))
            with contextlib.suppress(DuplicateKey):
                await books.insert_many(batch)

    async def read() -> None:
        for _ in range(40):
            counts.append(await books.count())
            await asyncio.sleep(0)

    await asyncio.gather(write(), read(), read())
    assert {c % 200 for c in counts} == {0}
    assert await books.count() == 600
