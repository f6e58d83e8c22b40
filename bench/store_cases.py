"""The CRUD rows every store bench measures three ways, side by side: the raw driver, the
store's own methods, and the typed collection (ODM included), on the same documents."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, Protocol

from tbone import Model, field
from tbone.storage import CollectionSpec, Query, Store, compile_where, parse_order

Cases = dict[str, dict[str, Callable[[int], Any]]]

ROWS = 2_000
YEARS = 200  # ROWS / YEARS documents share each year: ~10 per find


class Book(Model):
    id: str = field(primary_key=True)
    title: str = field(min_length=1)
    author: str
    year: int = field(index=True)
    tags: list[str] = field(factory=list)
    rating: float = 0.0
    in_print: bool = True


def doc(i: int) -> dict[str, Any]:
    """Document ``i``; those inserted while timing (``i >= ROWS``) stay out of every find."""
    return {
        "id": f"book-{i:08d}",
        "title": f"Title {i}",
        "author": f"Author {i % 97}",
        "year": 1800 + i % YEARS if i < ROWS else 1700,
        "tags": ["fiction", f"t{i % 7}"],
        "rating": (i % 50) / 10,
        "in_print": i % 2 == 0,
    }


class Raw(Protocol):
    """What each bench writes by hand with its driver."""

    def insert(self, doc: dict[str, Any]) -> Any: ...
    def get(self, pk: str) -> Any: ...
    def find(self, year: int) -> Any: ...
    def update(self, pk: str, changes: dict[str, Any]) -> Any: ...


def crud_cases(
    raw: Raw,
    store: Store,
    model: type[Model],
    doc: Callable[[int], dict[str, Any]],
    *,
    rows: int,
    years: int,
    find: str = "find (indexed, ~10 rows)",
    spec: CollectionSpec | None = None,
    typed: Store | None = None,
) -> Cases:
    """insert, get, an indexed find (``year``) and a one-field update, each three ways; the
    collection holds ``rows`` documents ``doc(0..rows-1)`` with keys ``book-%08d``. ``typed``
    is the store the collection runs on (another file, so that neither way's writes make the
    other's table grow; ``store`` by default)."""
    spec = spec or CollectionSpec.of(model)
    books = (typed or store).collection(model)
    order = parse_order(model, [])
    fresh = itertools.count(rows)

    def find_query(year: int) -> Query:
        return Query(where=compile_where(model, year=year), order=order)

    async def store_update(pk: str, changes: dict[str, Any]) -> int:
        (record,) = await store.get_docs(spec, [pk])
        return await store.replace_doc(spec, pk, {**record.doc, **changes}, record.version)

    def key(i: int) -> str:
        return f"book-{i:08d}"

    return {
        "insert": {
            "raw": lambda i: raw.insert(doc(next(fresh))),
            "store": lambda i: store.insert_docs(spec, [doc(next(fresh))]),
            "collection": lambda i: books.insert(model(**doc(next(fresh)))),
        },
        "get": {
            "raw": lambda i: raw.get(key(i)),
            "store": lambda i: store.get_docs(spec, [key(i)]),
            "collection": lambda i: books.get(key(i)),
        },
        find: {
            "raw": lambda i: raw.find(1800 + i % years),
            "store": lambda i: store.find_docs(spec, find_query(1800 + i % years)),
            "collection": lambda i: books.find(year=1800 + i % years),
        },
        "update one field": {
            "raw": lambda i: raw.update(key(i), {"rating": 1.5}),
            "store": lambda i: store_update(key(i), {"rating": 1.5}),
            "collection": lambda i: books.update(key(i), {"rating": 1.5}),
        },
    }
