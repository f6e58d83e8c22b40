"""The query model: compiling lookups into typed trees, and the errors bad input gets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import tbone.storage
from tbone import Model, QueryError, ValidationError, field
from tbone.storage import And, Filter, Not, Or, Q, compile_where, parse_order


class Author(Model):
    name: str


class Book(Model):
    title: str = field(min_length=3)
    year: int | None = field(default=None, ge=0, le=3000)
    tags: list[str] = field(factory=list)
    author: Author | None = None
    extra: dict[str, Any] = field(factory=dict)
    added: datetime | None = None


def test_values_are_typed_by_the_field() -> None:
    node = compile_where(Book, added__lt="2024-01-01T00:00:00Z", year__in=[1, 2.0])
    assert isinstance(node, And)
    added, year = node.children
    assert isinstance(added, Filter)
    assert added.value == datetime(2024, 1, 1, tzinfo=UTC)
    assert added.wire == "2024-01-01T00:00:00+00:00"
    assert isinstance(year, Filter)
    assert year.value == (1, 2)


def test_constraints_do_not_limit_questions() -> None:
    assert compile_where(Book, year__lt=3001, title__contains="Du") is not None


def test_q_combinations_compile_to_a_tree() -> None:
    node = compile_where(Book, (Q(year=1) | Q(year=2)) & ~Q(tags__contains="x"))
    assert isinstance(node, And)
    assert isinstance(node.children[0], Or)
    assert isinstance(node.children[1], Not)
    assert repr(~Q(a=1)) == "~(Q(a=1))"


@pytest.mark.parametrize(
    ("lookups", "loc", "needle"),
    [
        ({"titel": "x"}, ["titel"], "unknown field 'titel'; allowed: added, author, extra"),
        (
            {"year__greater": 1},
            ["year__greater"],
            "unknown lookup 'greater' on 'year'; allowed: exact",
        ),
        ({"author__nme": "x"}, ["author__nme"], "unknown field 'author.nme'; allowed: id, name"),
        ({"tags__name": "x"}, ["tags__name"], "unknown lookup 'name'"),
        ({"year": "1965"}, ["year"], "expected an integer"),
        ({"year__in": [1, "a"]}, ["year__in", 1], "expected an integer"),
        ({"year__in": 1}, ["year__in"], "expected a list"),
        ({"year__lt": None}, ["year__lt"], "not null"),
        ({"year__icontains": "1"}, ["year__icontains"], "applies to text fields"),
        ({"tags__lt": "x"}, ["tags__lt"], "compares single values"),
        ({"title": {"$ne": 1}}, ["title"], "expected a string"),
        ({"year__exists": "yes"}, ["year__exists"], "expected true or false"),
    ],
)
def test_bad_lookups_name_the_problem(lookups: dict[str, Any], loc: list[Any], needle: str) -> None:
    with pytest.raises(QueryError) as info:
        compile_where(Book, **lookups)
    assert isinstance(info.value, ValidationError)
    assert info.value.errors[0]["loc"] == loc
    assert needle in info.value.errors[0]["msg"]


def test_operator_dicts_are_plain_values_on_untyped_fields() -> None:
    node = compile_where(Book, extra__q={"$ne": 1})
    assert isinstance(node, Filter)
    assert node.value == {"$ne": 1}
    assert node.lookup == "exact"


def test_order_appends_the_primary_key_and_refuses_containers() -> None:
    assert [str(o) for o in parse_order(Book, "-year, author.name")] == [
        "-year",
        "author.name",
        "id",
    ]
    with pytest.raises(QueryError, match="cannot order by 'tags'"):
        parse_order(Book, ["tags"])
    with pytest.raises(QueryError, match="unknown field 'nope'"):
        parse_order(Book, ["-nope"])


def test_public_names_are_exported_sorted() -> None:
    names = tbone.storage.__all__

    def rank(n: str) -> tuple[int, str]:
        return (0 if n.isupper() and len(n) > 1 else 1 if n[0].isupper() else 2, n)

    assert names == sorted(names, key=rank)
    for name in names:
        assert getattr(tbone.storage, name) is not None
