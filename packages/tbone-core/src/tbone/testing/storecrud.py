"""Kit behaviours: CRUD, versions, conflicts, unique fields, bulk, unicode, large documents."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tbone.data import version_of
from tbone.errors import Conflict, DuplicateKey, NotFound, StoreUnavailable, ValidationError
from tbone.storage import Collection, Store

from .kit import Behaviour, behaviour
from .models import KitAuthor, KitBook, KitCopy

__all__ = ["BEHAVIOURS"]


def books(store: Store, name: str = "kit_books") -> Collection[KitBook]:
    return store.collection(KitBook, name)


def dune(**changes: Any) -> KitBook:
    values: dict[str, Any] = {
        "title": "Dune",
        "year": 1965,
        "rating": 4.5,
        "tags": ["scifi", "classic"],
        "author": KitAuthor(name="Frank Herbert", born=1920),
        "coauthors": [KitAuthor(name="Brian")],
        "extra": {"pages": 412, "nested": {"a": [1, "two", None, True]}},
        "added": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        "price": Decimal("9.99"),
        "isbn": "9780441013593",
        "cost": 1.25,
    }
    return KitBook(**{**values, **changes})


async def _raises(exc: type[BaseException], coro: Any) -> BaseException:
    try:
        await coro
    except exc as caught:
        return caught
    raise AssertionError(f"expected {exc.__name__}")


@behaviour("insert_get")
async def insert_get(store: Store) -> None:
    """An inserted document reads back equal, private fields included, at version 1."""
    coll = books(store)
    book = await coll.insert(dune())
    assert version_of(book) == 1
    got = await coll.get(book.id)
    assert got == book
    assert got is not None
    assert version_of(got) == 1
    assert got.cost == 1.25


@behaviour("get_missing")
async def get_missing(store: Store) -> None:
    assert await books(store).get("nope") is None


@behaviour("insert_duplicate_pk")
async def insert_duplicate_pk(store: Store) -> None:
    coll = books(store)
    book = await coll.insert(dune())
    err = await _raises(DuplicateKey, coll.insert(dune(id=book.id, isbn=None)))
    assert getattr(err, "field", None) == "id"


@behaviour("insert_many")
async def insert_many(store: Store) -> None:
    coll = books(store)
    made = await coll.insert_many([KitBook(title=f"t{i}") for i in range(50)])
    assert await coll.count() == 50
    assert all(version_of(b) == 1 for b in made)
    assert await coll.insert_many([]) == []


@behaviour("insert_many_atomic", requires="atomic_bulk")
async def insert_many_atomic(store: Store) -> None:
    """A batch with a duplicate stores nothing."""
    coll = books(store)
    await coll.insert(dune())
    batch = [KitBook(title="new"), dune(isbn="9780441013593", title="again")]
    await _raises(DuplicateKey, coll.insert_many(batch))
    assert await coll.count() == 1


@behaviour("update_partial")
async def update_partial(store: Store) -> None:
    """update() merges top-level fields, keeps the rest and bumps the version."""
    coll = books(store)
    book = await coll.insert(dune())
    updated = await coll.update(book.id, {"year": 1966, "tags": []})
    assert (updated.year, updated.tags, updated.title) == (1966, [], "Dune")
    assert version_of(updated) == 2
    got = await coll.get(book.id)
    assert got == updated
    assert got is not None
    assert version_of(got) == 2


@behaviour("update_validates")
async def update_validates(store: Store) -> None:
    coll = books(store)
    book = await coll.insert(dune())
    err = await _raises(ValidationError, coll.update(book.id, {"title": "", "year": "x"}))
    assert {tuple(e["loc"]) for e in err.errors} == {("title",), ("year",)}  # type: ignore[attr-defined]
    assert await coll.get(book.id) == book


@behaviour("update_missing")
async def update_missing(store: Store) -> None:
    await _raises(NotFound, books(store).update("nope", {"year": 1}))


@behaviour("replace")
async def replace(store: Store) -> None:
    coll = books(store)
    book = await coll.insert(dune())
    book.title = "Dune Messiah"
    await coll.replace(book)
    assert version_of(book) == 2
    got = await coll.get(book.id)
    assert got is not None
    assert got.title == "Dune Messiah"


@behaviour("replace_missing")
async def replace_missing(store: Store) -> None:
    await _raises(NotFound, books(store).replace(dune()))


@behaviour("delete")
async def delete(store: Store) -> None:
    coll = books(store)
    book = await coll.insert(dune())
    await coll.delete(book.id)
    assert await coll.get(book.id) is None
    await _raises(NotFound, coll.delete(book.id))


@behaviour("delete_many")
async def delete_many(store: Store) -> None:
    coll = books(store)
    await coll.insert_many([KitBook(title=f"t{i}", year=i) for i in range(10)])
    assert await coll.delete_many(year__gte=5) == 5
    assert sorted(b.year or 0 for b in await coll.find()) == [0, 1, 2, 3, 4]
    assert await coll.delete_many() == 5
    assert await coll.count() == 0


@behaviour("versions_conflict")
async def versions_conflict(store: Store) -> None:
    """A stale expect_version raises Conflict for update, replace and delete, writing nothing."""
    coll = books(store)
    book = await coll.insert(dune())
    await coll.update(book.id, {"year": 1970}, expect_version=1)
    await _raises(Conflict, coll.update(book.id, {"year": 1980}, expect_version=1))
    await _raises(Conflict, coll.replace(dune(id=book.id), expect_version=1))
    await _raises(Conflict, coll.delete(book.id, expect_version=1))
    got = await coll.get(book.id)
    assert got is not None
    assert got.year == 1970
    assert version_of(got) == 2
    await coll.replace(got, expect_version=2)
    await coll.delete(book.id, expect_version=3)


@behaviour("unique", requires="unique")
async def unique(store: Store) -> None:
    """Unique fields refuse a taken value on insert and on update, naming the field."""
    coll = books(store)
    first = await coll.insert(dune())
    err = await _raises(DuplicateKey, coll.insert(dune(title="copy")))
    assert getattr(err, "field", None) == "isbn"
    other = await coll.insert(dune(isbn="9780000000000"))
    await _raises(DuplicateKey, coll.update(other.id, {"isbn": first.isbn}))
    await coll.update(first.id, {"title": "same isbn, own document"})


@behaviour("unique_allows_nulls", requires="unique")
async def unique_allows_nulls(store: Store) -> None:
    coll = books(store)
    await coll.insert_many([KitBook(title="a"), KitBook(title="b")])
    assert await coll.count(isbn=None) == 2


@behaviour("unique_within_scope", requires="unique")
async def unique_within_scope(store: Store) -> None:
    """``unique_with`` fields are unique among documents with the same scope values, and the
    stored documents read back without the key that enforces it."""
    coll = store.collection(KitCopy, "kit_copies")
    mine = await coll.insert(KitCopy(owner="alice", code="A1"))
    theirs = await coll.insert(KitCopy(owner="bob", code="A1"))
    err = await _raises(DuplicateKey, coll.insert(KitCopy(owner="alice", code="A1")))
    assert getattr(err, "field", None) == "code"
    await _raises(DuplicateKey, coll.update(theirs.id, {"owner": "alice"}))
    await coll.insert_many([KitCopy(owner="alice"), KitCopy(owner="alice")])  # None: no clash
    await coll.update(mine.id, {"code": "A2"})
    await coll.insert(KitCopy(owner="alice", code="A1"))  # free again
    got = await coll.get(mine.id)
    assert got is not None
    assert got.to_data(full=True) == {"id": mine.id, "owner": "alice", "code": "A2"}
    assert await coll.count(owner="alice") == 4


@behaviour("unicode")
async def unicode(store: Store) -> None:
    coll = books(store)
    text = "Ünïcødé ✓ 漢字 🚀 \u0000 'quote\" \\ ; DROP TABLE kit_books;--"
    book = await coll.insert(dune(title=text, tags=[text], extra={text: text}, isbn=None))
    assert await coll.get(book.id) == book
    assert [b.id for b in await coll.find(title=text)] == [book.id]
    assert await coll.count(tags__contains=text) == 1


@behaviour("large_document")
async def large_document(store: Store) -> None:
    """A document of about 1 MB round-trips."""
    coll = books(store)
    big = "x" * 1_000_000
    book = await coll.insert(dune(extra={"blob": big}, tags=["t"] * 1000))
    got = await coll.get(book.id)
    assert got is not None
    assert got.extra["blob"] == big
    assert len(got.tags) == 1000


@behaviour("nested_documents")
async def nested_documents(store: Store) -> None:
    coll = books(store)
    book = await coll.insert(dune())
    assert await coll.count(author__name="Frank Herbert") == 1
    assert await coll.count(author__born__lt=1900) == 0
    assert await coll.count(extra__nested__a=[1, "two", None, True]) == 1
    assert await coll.count(coauthors__contains={"id": book.coauthors[0].id, "name": "Brian"}) == 1


@behaviour("collections_isolated")
async def collections_isolated(store: Store) -> None:
    await books(store, "kit_a").insert(dune())
    assert await books(store, "kit_b").count() == 0


@behaviour("closed_unavailable")
async def closed_unavailable(store: Store) -> None:
    coll = books(store)
    await coll.insert(dune())
    await store.aclose()
    await _raises(StoreUnavailable, coll.count())


@behaviour("lone_surrogates")
async def lone_surrogates(store: Store) -> None:
    """A text holding a lone UTF-16 surrogate (Python allows it; UTF-8 has no form for it) is
    stored and read back exactly, or refused with ``ValidationError``; nothing else is stored
    and the store keeps serving."""
    coll = books(store, "kit_surrogates")
    kept = await coll.insert(dune(title="kept", isbn=None))
    for text in ("\ud800", "a\udfffb", "\udc00\ud800"):
        try:
            stored = await coll.insert(dune(title=text, isbn=None))
        except ValidationError:
            pass
        else:
            assert (await coll.get(stored.id)) == stored
        fresh = await coll.get(kept.id)
        assert fresh is not None
        try:
            await coll.replace(
                dune(id=kept.id, title=text, isbn=None), expect_version=version_of(fresh)
            )
        except ValidationError:
            assert (await coll.get(kept.id)) == fresh
        else:
            got = await coll.get(kept.id)
            assert got is not None
            assert got.title == text
            await coll.replace(
                dune(id=kept.id, title="kept", isbn=None), expect_version=version_of(got)
            )


BEHAVIOURS: tuple[Behaviour, ...] = tuple(
    v for v in list(globals().values()) if isinstance(v, Behaviour)
)
