"""A harder differential test than the kit's: every value type SQL cannot compare natively.

Strings with NUL and with characters whose lowercase is ASCII (Kelvin sign), integers at and
beyond SQLite's 64 bits (beyond only as filter values), datetimes at several UTC offsets naming
the same instant, Decimal strings of one value in several spellings, dates, enums, literals,
nested models, and untyped values nested in lists and objects. Every query is run on the SQLite
store and on the memory store (the reference) and must give the same answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from decimal import Decimal
from typing import Any, Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tbone import Model, Q, field
from tbone.storage import MemoryStore, Store
from tbone_sqlite import SQLiteStore


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"
    ONE = 1


class Owner(Model):
    name: str = ""


class Thing(Model):
    id: str = field(primary_key=True)
    s: str | None = None
    n: int | None = field(default=None, index=True)
    x: float | None = None
    b: bool | None = None
    when: dt.datetime | None = None
    price: Decimal | None = None
    day: dt.date | None = None
    color: Color | None = None
    lit: Literal["a", "b"] | None = None
    tags: list[str] = field(factory=list)
    owner: Owner | None = None
    extra: dict[str, Any] = field(factory=dict)


TEXT = st.text("aAkK\u212a\x00é ", max_size=4)
INTS = st.integers(-2, 2)
EDGE_INTS = st.sampled_from([2**63 - 1, -(2**63)])  # the extremes SQLite holds exactly
BIG_INTS = st.sampled_from([2**63, -(2**63) - 1, 2**64 + 1])  # never stored: filters only
_BASE = [dt.datetime(2024, 1, 1, 12, tzinfo=dt.UTC), dt.datetime(2024, 1, 1, 13, tzinfo=dt.UTC)]
_ZONES = [dt.UTC, dt.timezone(dt.timedelta(hours=2)), dt.timezone(dt.timedelta(hours=-5))]
WHEN = st.builds(lambda b, z: b.astimezone(z), st.sampled_from(_BASE), st.sampled_from(_ZONES))
PRICE = st.sampled_from(["1", "1.0", "10", "1E+1", "9.99", "100.5", "-0", "0.10"]).map(Decimal)
DAY = st.dates(dt.date(1999, 12, 30), dt.date(2000, 1, 2))
JSON = st.recursive(
    st.none() | st.booleans() | INTS | st.sampled_from([0.5, 1.0, -1.5]) | TEXT,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from("kj"), inner),
    max_leaves=4,
)

THINGS = st.builds(
    Thing,
    id=st.text("abc", min_size=1, max_size=3),
    s=st.none() | TEXT,
    n=st.none() | INTS | EDGE_INTS,
    x=st.none() | st.sampled_from([0.0, 1.0, -2.5, 1.5, 1.8446744073709552e19]),
    b=st.none() | st.booleans(),
    when=st.none() | WHEN,
    price=st.none() | PRICE,
    day=st.none() | DAY,
    color=st.none() | st.sampled_from(Color),
    lit=st.none() | st.sampled_from(["a", "b"]),
    tags=st.lists(TEXT, max_size=2),
    owner=st.none() | st.builds(Owner, name=TEXT),
    extra=st.dictionaries(st.just("k"), JSON, max_size=1),
)

_VALUES: dict[str, Any] = {
    "s": TEXT,
    "n": INTS | EDGE_INTS | BIG_INTS,
    "x": st.sampled_from([0.0, 1.0, 1, -2.5, 2**64 + 1, 1.8446744073709552e19]),
    "b": st.booleans(),
    "when": WHEN,
    "price": PRICE,
    "day": DAY,
    "color": st.sampled_from(Color),
    "lit": st.sampled_from(["a", "b"]),
    "extra__k": JSON,
    "owner__name": TEXT,
}
_ORDERED = ["s", "n", "x", "b", "when", "price", "day", "extra__k", "owner__name"]


def _leaf() -> Any:
    return st.one_of(
        st.builds(
            lambda k, op, v: Q(**{f"{k}__{op}": v}),
            st.sampled_from(sorted(set(_VALUES) - {"owner__name"})),
            st.sampled_from(["exact", "ne"]),
            st.none(),
        ),
        *(
            st.builds(
                lambda op, v, k=k: Q(**{f"{k}__{op}": v}), st.sampled_from(["exact", "ne"]), values
            )
            for k, values in _VALUES.items()
        ),
        *(
            # ordering against null is a QueryError in every store (lookup.py), so never null
            st.builds(
                lambda op, v, k=k: Q(**{f"{k}__{op}": v}),
                st.sampled_from(["lt", "lte", "gt", "gte"]),
                _VALUES[k].filter(lambda v: v is not None),
            )
            for k in _ORDERED
        ),
        *(
            st.builds(
                lambda op, v, k=k: Q(**{f"{k}__{op}": v}),
                st.sampled_from(["in", "nin"]),
                st.lists(values if k == "owner__name" else st.none() | values, max_size=3),
            )
            for k, values in _VALUES.items()
        ),
        st.builds(
            lambda k, op, v: Q(**{f"{k}__{op}": v}),
            st.sampled_from(["s", "owner__name", "extra__k"]),
            st.sampled_from(["contains", "icontains", "startswith"]),
            TEXT,
        ),
        st.builds(lambda v: Q(tags__contains=v), TEXT),
        st.builds(lambda v: Q(extra__k__contains=v), JSON),
        st.builds(lambda v: Q(tags=v), st.lists(TEXT, max_size=2)),
        st.builds(lambda v: Q(owner=v), st.none() | st.builds(Owner, name=TEXT).map(_wire)),
        st.builds(
            lambda k, v: Q(**{f"{k}__exists": v}),
            st.sampled_from(["s", "n", "extra__k", "owner", "owner__name", "when"]),
            st.booleans(),
        ),
    )


def _wire(owner: Owner) -> dict[str, Any]:
    return owner.to_data(full=True)


QUERIES = st.recursive(
    _leaf(),
    lambda inner: (
        st.builds(lambda a, b: a & b, inner, inner)
        | st.builds(lambda a, b: a | b, inner, inner)
        | st.builds(lambda a: ~a, inner)
    ),
    max_leaves=5,
)
ORDERS = st.lists(st.sampled_from([*_ORDERED, "id"]), unique=True, max_size=3).flatmap(
    lambda names: st.tuples(*[st.sampled_from([k, f"-{k}"]) for k in names]).map(list)
)


async def _answers(store: Store, things: list[Thing], query: Q | None, order: list[str],
                   window: tuple[int | None, int]) -> list[Any]:  # fmt: skip
    where = () if query is None else (query,)
    async with store:
        coll = store.collection(Thing)
        await coll.insert_many([Thing.from_data(t.to_data(full=True)) for t in things])
        out: list[Any] = [await coll.count(*where)]
        out.append([t.to_data(full=True) for t in await coll.find(*where, order_by=order)])
        limit, offset = window
        page = await coll.find(*where, order_by=order, limit=limit, offset=offset, fields=["s"])
        out.append(page.items)
        seen: list[str] = []
        page2 = await coll.find(*where, order_by=order, limit=2)
        while True:
            seen += [t.id for t in page2]
            if page2.next_cursor is None:
                break
            page2 = await coll.find(*where, order_by=order, limit=2, cursor=page2.next_cursor)
        out.append(seen)
        out.append(await coll.delete_many(*where))
        out.append(await coll.count())
        return out


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    things=st.lists(THINGS, max_size=12, unique_by=lambda t: t.id),
    query=st.none() | QUERIES,
    order=ORDERS,
    window=st.tuples(st.none() | st.integers(0, 4), st.integers(0, 3)),
)
def test_same_answers_as_memory(
    things: list[Thing], query: Q | None, order: list[str], window: tuple[int | None, int]
) -> None:
    expected = asyncio.run(_answers(MemoryStore(), things, query, order, window))
    got = asyncio.run(_answers(SQLiteStore(), things, query, order, window))
    assert got == expected, f"query={query!r} order={order} window={window}"
