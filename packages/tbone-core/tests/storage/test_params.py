"""Query strings and JSON filters become the same typed trees as keyword lookups."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import pytest

from tbone import Model, QueryError, field
from tbone.storage import And, Filter, MemoryStore, compile_where, parse_filter, parse_params


class Color(Enum):
    RED = 1
    BLUE = 2


class Book(Model):
    author: str
    year: int | None = None
    rating: float = 0.0
    in_print: bool = True
    tags: list[str] = field(factory=list)
    added: datetime | None = None
    color: Color = Color.RED
    extra: dict[str, Any] = field(factory=dict)


def test_query_string_values_are_converted_per_field_type() -> None:
    pairs = [
        ("author", "Herbert"),
        ("year__gte", "1960"),
        ("rating__lt", "4.5"),
        ("in_print", "false"),
        ("tags__contains", "x"),
        ("author__in", "a,b"),
        ("added__lt", "2024-01-01T00:00:00Z"),
        ("year__exists", "true"),
        ("color", "2"),
    ]
    node = parse_params(Book, pairs)
    assert isinstance(node, And)
    assert [f.value for f in node.children if isinstance(f, Filter)] == [
        "Herbert", 1960, 4.5, False, "x", ("a", "b"),
        datetime(2024, 1, 1, tzinfo=UTC), True, Color.BLUE,
    ]  # fmt: skip
    assert node == compile_where(
        Book, author="Herbert", year__gte=1960, rating__lt=4.5, in_print=False,
        tags__contains="x", author__in=["a", "b"], added__lt=datetime(2024, 1, 1, tzinfo=UTC),
        year__exists=True, color=Color.BLUE,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("pairs", "needle"),
    [
        ({"year": "19x"}, "expected an integer in ASCII digits, got '19x'"),
        ({"year": "\uff11\uff19\uff16\uff15"}, "expected an integer in ASCII digits"),
        ({"year": "\u0661"}, "expected an integer in ASCII digits"),
        ({"year": "+5"}, "expected an integer in ASCII digits"),
        ({"year": " 1960"}, "expected an integer in ASCII digits"),
        ({"year": "1_0"}, "expected an integer in ASCII digits"),
        ({"in_print": "maybe"}, "expected true or false"),
        ({"added": "yesterday"}, "ISO 8601"),
        ({"nope": "1"}, "unknown field 'nope'"),
        ({"year__near": "1"}, "unknown lookup 'near'"),
    ],
)
def test_bad_query_strings(pairs: dict[str, str], needle: str) -> None:
    with pytest.raises(QueryError, match=needle) as info:
        parse_params(Book, pairs)
    assert info.value.errors[0]["loc"] == [next(iter(pairs))]


def test_query_strings_are_never_interpreted() -> None:
    for text in ('{"$ne": 1}', "'; DROP TABLE books;--", "null"):
        node = parse_params(Book, {"author": text, "extra__k": text})
        assert isinstance(node, And)
        assert [f.value for f in node.children if isinstance(f, Filter)] == [text, text]


def test_allowed_fields_and_lookups() -> None:
    allowed = {"author": ["exact", "in"], "year": ["gte"]}
    assert parse_params(Book, {"year__gte": "1"}, allowed) is not None
    with pytest.raises(QueryError, match="filtering on 'rating' is not allowed; filterable"):
        parse_params(Book, {"rating": "1"}, allowed)
    with pytest.raises(QueryError, match="lookup 'lt' is not allowed on 'year'; allowed: gte"):
        parse_params(Book, {"year__lt": "1"}, allowed)


def test_json_filters() -> None:
    assert parse_filter(Book, {"year__in": [1, 2], "author": "H"}) == compile_where(
        Book, year__in=[1, 2], author="H"
    )
    with pytest.raises(QueryError, match="expected an integer"):
        parse_filter(Book, {"year": "1965"})
    with pytest.raises(QueryError, match="expected a string"):
        parse_filter(Book, {"author": {"$ne": 1}})


async def test_filters_run_on_a_store() -> None:
    books = MemoryStore().collection(Book)
    await books.insert_many([Book(author="a", year=1999), Book(author="b")])
    assert [b.author for b in await books.find(parse_params(Book, {"year__exists": "false"}))] == [
        "b"
    ]
