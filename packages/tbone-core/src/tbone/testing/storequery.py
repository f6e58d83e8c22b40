"""Kit behaviours: every lookup, AND/OR/NOT, ordering, both paginations, projection, search."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tbone.errors import QueryError
from tbone.storage import Collection, Q, Store

from .kit import Behaviour, behaviour
from .models import KitAuthor, KitBook
from .storeunions import BEHAVIOURS as UNION_BEHAVIOURS

__all__ = ["BEHAVIOURS"]


def _shelf() -> list[KitBook]:
    """Six books with ties, nulls, nesting and lists; titles a..f identify them."""
    when = datetime(2024, 1, 1, tzinfo=UTC)
    return [
        KitBook(
            id="1",
            title="a",
            year=1965,
            rating=4.5,
            tags=["scifi", "classic"],
            author=KitAuthor(name="Herbert"),
            extra={"k": 1},
            added=when,
            price=Decimal("10"),
            isbn="111",
        ),
        KitBook(
            id="2",
            title="b",
            year=1965,
            rating=3.0,
            tags=["scifi"],
            author=KitAuthor(name="Asimov"),
            extra={"k": "1"},
            price=Decimal("9"),
        ),
        KitBook(
            id="3",
            title="c",
            year=None,
            rating=5.0,
            tags=[],
            in_print=False,
            extra={"k": None},
            added=when.replace(year=2020),
        ),
        KitBook(
            id="4",
            title="d",
            year=2001,
            rating=2.5,
            tags=["fantasy"],
            author=KitAuthor(name="Le Guin", born=1929),
            extra={},
        ),
        KitBook(
            id="5",
            title="Épée",
            year=1990,
            rating=4.5,
            tags=["classic"],
            extra={"k": True},
            price=Decimal("100.5"),
        ),
        KitBook(
            id="6",
            title="f",
            year=1965,
            rating=1.0,
            tags=["scifi", "fantasy"],
            author=KitAuthor(name="herbert"),
            extra={"k": [1, 2]},
        ),
    ]


async def _stocked(store: Store) -> Collection[KitBook]:
    coll = store.collection(KitBook, "kit_shelf")
    await coll.insert_many(_shelf())
    return coll


async def _titles(coll: Collection[KitBook], *q: Q, **kw: Any) -> list[str]:
    return [b.title for b in await coll.find(*q, order_by=["id"], **kw)]


_LOOKUP_CASES: dict[str, list[tuple[dict[str, Any], list[str]]]] = {
    "exact": [
        ({"year": 1965}, ["a", "b", "f"]),
        ({"year": None}, ["c"]),
        ({"author__name": "Herbert"}, ["a"]),
        ({"in_print": False}, ["c"]),
        ({"extra__k": 1}, ["a"]),
        ({"extra__k": True}, ["Épée"]),
    ],
    "ne": [
        ({"year__ne": 1965}, ["c", "d", "Épée"]),
        ({"year__ne": None}, ["a", "b", "d", "Épée", "f"]),
    ],
    "lt": [({"year__lt": 1990}, ["a", "b", "f"]), ({"price__lt": Decimal("10")}, ["b"])],
    "lte": [({"year__lte": 1990}, ["a", "b", "Épée", "f"]), ({"rating__lte": 2.5}, ["d", "f"])],
    "gt": [({"year__gt": 1965}, ["d", "Épée"]), ({"title__gt": "c"}, ["d", "Épée", "f"])],
    "gte": [
        ({"year__gte": 1990}, ["d", "Épée"]),
        ({"added__gte": datetime(2023, 1, 1, tzinfo=UTC)}, ["a"]),
    ],
    "in": [({"year__in": [1990, 2001]}, ["d", "Épée"]), ({"title__in": []}, [])],
    "nin": [
        ({"year__nin": [1965]}, ["c", "d", "Épée"]),
        ({"year__nin": []}, ["a", "b", "c", "d", "Épée", "f"]),
    ],
    "contains": [
        ({"tags__contains": "fantasy"}, ["d", "f"]),
        ({"title__contains": "p"}, ["Épée"]),
        ({"author__name__contains": "erb"}, ["a", "f"]),
    ],
    "icontains": [
        ({"author__name__icontains": "HERB"}, ["a", "f"]),
        ({"title__icontains": "ÉP"}, ["Épée"]),
    ],
    "startswith": [
        ({"author__name__startswith": "Her"}, ["a"]),
        ({"title__startswith": ""}, ["a", "b", "c", "d", "Épée", "f"]),
    ],
    "exists": [
        ({"year__exists": False}, ["c"]),
        ({"author__exists": True}, ["a", "b", "d", "f"]),
        ({"extra__k__exists": True}, ["a", "b", "Épée", "f"]),
    ],
}


def _lookup_behaviour(lookup: str) -> Behaviour:
    async def run(store: Store) -> None:
        coll = await _stocked(store)
        for lookups, expected in _LOOKUP_CASES[lookup]:
            got = await _titles(coll, **lookups)
            assert got == expected, f"{lookups}: expected {expected}, got {got}"
            assert await coll.count(**lookups) == len(expected), f"count({lookups})"

    run.__doc__ = f"The '{lookup}' lookup, including nulls, nesting and lists."
    return Behaviour(f"lookup_{lookup}", run)


@behaviour("and_or_not")
async def and_or_not(store: Store) -> None:
    coll = await _stocked(store)
    assert await _titles(coll, Q(year=1965) & Q(rating__gte=3)) == ["a", "b"]
    assert await _titles(coll, Q(year=2001) | Q(tags__contains="classic")) == ["a", "d", "Épée"]
    assert await _titles(coll, ~Q(year=1965)) == ["c", "d", "Épée"]
    nested = (Q(year=1965) | Q(year=None)) & ~(Q(tags__contains="fantasy") | Q(rating__lt=3.5))
    assert await _titles(coll, nested) == ["a", "c"]
    assert await _titles(coll, ~~Q(year=2001), in_print=True) == ["d"]


@behaviour("plain_values")
async def plain_values(store: Store) -> None:
    """Operator-looking data is compared as data, never interpreted; bad types are refused."""
    coll = store.collection(KitBook, "kit_plain")
    evil = await coll.insert(KitBook(title="'; DROP TABLE kit_plain;--", extra={"$ne": 1}))
    await coll.insert(KitBook(title="normal", extra={"a": 1}))
    assert await _titles(coll, extra={"$ne": 1}) == [evil.title]
    assert await _titles(coll, extra__a={"$ne": 1}) == []
    assert await _titles(coll, title="'; DROP TABLE kit_plain;--") == [evil.title]
    for bad in ({"title": {"$ne": 1}}, {"year": "1965x"}, {"nope": 1}, {"year__near": 1}):
        try:
            await coll.find(**bad)
        except QueryError:
            continue
        raise AssertionError(f"{bad} should raise QueryError")
    assert await coll.count() == 2


@behaviour("order_multi")
async def order_multi(store: Store) -> None:
    """Several keys; ties broken by the next key, then by primary key."""
    coll = await _stocked(store)
    got = [b.id for b in await coll.find(order_by=["-year", "rating"])]
    assert got == ["4", "5", "6", "2", "1", "3"]
    got = [b.id for b in await coll.find(order_by=["rating"])]
    assert got == ["6", "4", "2", "1", "5", "3"]


@behaviour("order_nulls")
async def order_nulls(store: Store) -> None:
    """Null or missing sorts first ascending and last descending."""
    coll = await _stocked(store)
    assert [b.id for b in await coll.find(order_by=["year"])] == ["3", "1", "2", "6", "5", "4"]
    assert [b.id for b in await coll.find(order_by=["-year"])] == ["4", "5", "1", "2", "6", "3"]
    assert [b.id for b in await coll.find(order_by=["author.name"])] == [
        "3",
        "5",
        "2",
        "1",
        "4",
        "6",
    ]
    assert [b.id for b in await coll.find(order_by="-price")] == ["5", "1", "2", "3", "4", "6"]


@behaviour("offset_pagination")
async def offset_pagination(store: Store) -> None:
    coll = await _stocked(store)
    ids = [b.id for b in await coll.find(order_by=["year"], limit=2, offset=2)]
    assert ids == ["2", "6"]
    assert len(await coll.find(limit=0)) == 0
    assert [b.id for b in await coll.find(order_by=["year"], offset=5)] == ["4"]
    assert len(await coll.find(offset=50)) == 0


@behaviour("cursor_pagination")
async def cursor_pagination(store: Store) -> None:
    """Cursor pages cover everything once, even with inserts between pages."""
    coll = await _stocked(store)
    for order in (["year"], ["-year", "title"], ["-rating"], ["author.name"]):
        seen: list[str] = []
        page = await coll.find(order_by=order, limit=2)
        extra = 0
        while True:
            seen += [b.id for b in page]
            if page.next_cursor is None:
                break
            extra += 1
            await coll.insert(KitBook(id=f"z{order}{extra}", title="late", year=1965, rating=4.5))
            page = await coll.find(order_by=order, limit=2, cursor=page.next_cursor)
        originals = [i for i in seen if not i.startswith("z")]
        assert sorted(originals) == ["1", "2", "3", "4", "5", "6"], (order, seen)
        assert len(seen) == len(set(seen)), (order, seen)
        await coll.delete_many(title="late")


@behaviour("cursor_invalid")
async def cursor_invalid(store: Store) -> None:
    coll = await _stocked(store)
    page = await coll.find(order_by=["year"], limit=1)
    assert page.next_cursor is not None
    for bad, order in (
        ("garbage!!", ["year"]),
        ("eyJvIjogMX0", ["year"]),
        (page.next_cursor, ["title"]),
    ):
        try:
            await coll.find(order_by=order, limit=1, cursor=bad)
        except QueryError:
            continue
        raise AssertionError(f"cursor {bad!r} should raise QueryError")


@behaviour("projection")
async def projection(store: Store) -> None:
    coll = await _stocked(store)
    page = await coll.find(year=2001, fields=["title", "author"])
    assert page.items == [
        {
            "id": "4",
            "title": "d",
            "author": {"id": page.items[0]["author"]["id"], "name": "Le Guin", "born": 1929},
        }
    ]
    paged = await coll.find(order_by=["year"], fields=["title"], limit=4)
    assert [d["title"] for d in paged.items] == ["c", "a", "b", "f"]
    assert paged.next_cursor is not None


@behaviour("count")
async def count(store: Store) -> None:
    coll = await _stocked(store)
    assert await coll.count() == 6
    assert await coll.count(Q(year=1965) | Q(year=None)) == 4
    assert await coll.count(title="none such") == 0


@behaviour("text_search")
async def text_search(store: Store) -> None:
    """Every word must occur (ignoring case) in one of the searched fields."""
    coll = store.collection(KitBook, "kit_search")
    titles = ["Dune Messiah", "Children of Dune", "Foundation"]
    await coll.insert_many([KitBook(id=str(i), title=t) for i, t in enumerate(titles, 1)])
    assert [b.id for b in await coll.find(search="dune", order_by=["id"])] == ["1", "2"]
    assert [b.id for b in await coll.find(search="DUNE children")] == ["2"]
    assert await coll.count(search="dune", title__startswith="C") == 1


BEHAVIOURS: tuple[Behaviour, ...] = (
    *(_lookup_behaviour(name) for name in _LOOKUP_CASES),
    *(v for v in list(globals().values()) if isinstance(v, Behaviour)),
    *UNION_BEHAVIOURS,
)
