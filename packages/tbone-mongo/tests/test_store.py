"""MongoStore beyond the kit: URLs, handles, natural documents, versions, errors, ObjectId."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import bson
import pytest
from bson.decimal128 import Decimal128
from pymongo import AsyncMongoClient

import tbone
from tbone import Model, field
from tbone.data import model_schema, version_of
from tbone.errors import NotFound, StoreUnavailable, TooLarge, ValidationError
from tbone_mongo import MongoStore, ObjectId
from tbone_mongo.testing import MongoServer


class Author(Model, embedded=True):
    name: str
    born: int | None = None


class Book(Model):
    id: ObjectId = field(primary_key=True, factory=ObjectId.new)
    title: str
    added: dt.datetime | None = None
    price: Decimal | None = None
    ref: uuid.UUID | None = None
    author: Author | None = None
    extra: dict[str, Any] = field(factory=dict)
    isbn: str | None = field(default=None, unique=True)
    year: int | None = field(default=None, index=True)


WHEN = dt.datetime(2024, 5, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def _book(**changes: Any) -> Book:
    values: dict[str, Any] = {
        "title": "Dune",
        "added": WHEN,
        "price": Decimal("9.99"),
        "ref": uuid.UUID(int=7),
        "author": Author(name="Herbert", born=1920),
        "extra": {"$where": "1", "a.b": 2, "plain": [1, {"$ne": None}]},
    }
    return Book(**{**values, **changes})


@pytest.fixture
async def raw(mongo_server: MongoServer) -> AsyncIterator[Any]:
    client: Any = AsyncMongoClient(mongo_server.url, tz_aware=True, uuidRepresentation="standard")
    yield client
    await client.close()


async def test_connect_by_url_uses_the_database_of_the_path(mongo_url: str, raw: Any) -> None:
    name = mongo_url.partition("?")[0].rsplit("/", 1)[1]
    async with tbone.connect(mongo_url) as store:
        assert isinstance(store, MongoStore)
        await store.collection(Book, "books").insert(_book())
    assert await raw[name]["books"].count_documents({}) == 1


async def test_documents_are_natural(mongo_url: str, raw: Any) -> None:
    async with MongoStore(mongo_url) as store:
        books = store.collection(Book, "books")
        book = await books.insert(_book())
        stored = await raw[store.database.name]["books"].find_one()
    assert stored["_id"] == bson.ObjectId(book.id)
    assert stored["added"] == WHEN
    assert stored["added"].tzinfo is not None
    assert stored["price"] == Decimal128("9.99")
    assert stored["ref"] == uuid.UUID(int=7)
    assert stored["author"] == {"name": "Herbert", "born": 1920}
    assert stored["_v"] == 1
    # keys MongoDB would read as operators or paths are stored escaped, and read back as sent
    assert "$where" not in stored["extra"]
    assert "a.b" not in stored["extra"]
    assert stored["extra"]["plain"] == [1, {"~%%24ne": None}]


async def test_documents_written_by_other_programs(mongo_url: str, raw: Any) -> None:
    """No version field: version 1, readable, updatable; unknown fields are left out."""
    async with MongoStore(mongo_url) as store:
        books = store.collection(Book, "books")
        await store.prepare(books.spec)
        oid = bson.ObjectId()
        await raw[store.database.name]["books"].insert_one(
            {"_id": oid, "title": "Outside", "added": WHEN, "other": "kept"}
        )
        got = await books.get(str(oid))
        assert got is not None
        assert (got.title, got.added, version_of(got)) == ("Outside", WHEN, 1)
        updated = await books.update(str(oid), {"year": 1999}, expect_version=1)
        assert version_of(updated) == 2
        assert [b.title for b in await books.find(year=1999)] == ["Outside"]


async def test_objectid_field() -> None:
    book = Book.from_data({"title": "x"})
    assert len(book.id) == 24
    assert book.to_data()["id"] == book.id
    assert model_schema(Book)["properties"]["id"]["type"] == "string"
    with pytest.raises(ValidationError) as caught:
        Book.from_data({"id": "not-an-object-id", "title": "x"})
    assert caught.value.errors[0]["loc"] == ["id"]
    assert ObjectId("65F0C0FFEE0000000000BEEF") == "65f0c0ffee0000000000beef"


async def test_bad_object_id_lookup_is_a_validation_error(mongo_url: str) -> None:
    async with MongoStore(mongo_url) as store:
        books = store.collection(Book, "books")
        with pytest.raises(ValidationError):
            await books.get("1234")


async def test_oversized_document_is_too_large(mongo_url: str) -> None:
    async with MongoStore(mongo_url) as store:
        books = store.collection(Book, "books")
        with pytest.raises(TooLarge):
            await books.insert(_book(extra={"blob": "x" * (17 * 1024 * 1024)}))
        assert await books.count() == 0


async def test_integer_beyond_64_bits_is_a_validation_error(mongo_url: str) -> None:
    async with MongoStore(mongo_url) as store:
        books = store.collection(Book, "books")
        with pytest.raises(ValidationError):
            await books.insert(_book(extra={"n": 2**70}))
        assert await books.count() == 0


class Counter(Model):
    n: int = field(primary_key=True)
    extra: Any = None


async def test_integers_beyond_64_bits_in_queries_compare_as_numbers(mongo_url: str) -> None:
    async with MongoStore(mongo_url) as store:
        books = store.collection(Book, "books")
        await books.insert_many([_book(year=1965), _book(year=-5)])
        assert await books.count(year=2**64) == 0
        assert await books.count(year__in=[1965, 2**64, -(2**70)]) == 1
        assert await books.count(year__lt=2**64) == 2
        assert await books.count(year__gt=-(10**40)) == 2
        assert await books.count(year__gte=10**400) == 0
        counters = store.collection(Counter, "counters")
        await counters.insert(Counter(n=1, extra=1e30))
        assert await counters.get(2**63) is None  # no stored key can be that integer
        with pytest.raises(NotFound):
            await counters.delete(2**64)
        assert await counters.count(extra__gt=10**29) == 1


async def test_indexes_from_the_model(mongo_url: str, raw: Any) -> None:
    async with MongoStore(mongo_url) as store:
        # an index of an earlier release (the field alone) is replaced, not kept beside
        await raw[store.database.name]["books"].create_index([("year", 1)], name="tbone_index_year")
        books = store.collection(Book, "books")
        await store.prepare(books.spec)
        info = await raw[store.database.name]["books"].index_information()
    assert info["tbone_unique_isbn"]["unique"] is True
    assert info["tbone_unique_isbn"]["key"] == [("isbn", 1)]
    assert "partialFilterExpression" in info["tbone_unique_isbn"]
    assert info["tbone_index_year"]["key"] == [("year", 1), ("_id", 1)]


@pytest.mark.parametrize("driver", ["pymongo", "motor"])
async def test_database_handle_is_used_and_not_closed(
    mongo_server: MongoServer, driver: str
) -> None:
    if driver == "motor":
        motor = pytest.importorskip("motor.motor_asyncio", reason="motor is not installed")
        client: Any = motor.AsyncIOMotorClient(mongo_server.url)
    else:
        client = AsyncMongoClient(mongo_server.url)  # default codec options: the store sets its own
    database = client[f"handle_{driver}_{uuid.uuid4().hex[:8]}"]
    async with MongoStore(database=database) as store:
        assert store.supports("atomic_bulk")
        books = store.collection(Book, "books")
        book = await books.insert(_book())
        await books.insert_many([_book(title="a"), _book(title="b")])
        assert await books.get(book.id) == book
        assert await books.count(added__gte=WHEN) == 3
    # the store did not close the application's client
    assert await database["books"].count_documents({}) == 3
    if driver == "motor":
        client.close()
    else:
        await client.close()


async def test_down_server_is_unavailable_quickly() -> None:
    port = _closed_port()
    store = MongoStore(f"mongodb://127.0.0.1:{port}/x?serverSelectionTimeoutMS=300")
    with pytest.raises(StoreUnavailable):
        await store.open()
    with pytest.raises(StoreUnavailable):
        await store.collection(Book, "books").count()
    await store.aclose()


def test_url_errors() -> None:
    with pytest.raises(ValueError, match="not a MongoDB URL"):
        MongoStore("redis://localhost/0")
    with pytest.raises(ValueError, match="exactly one"):
        MongoStore()


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
