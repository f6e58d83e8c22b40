"""A harder differential test than the kit's: value types stores compare in their own ways.

Strings with NUL and with characters whose lowercase is ASCII (Kelvin sign), datetimes at
several UTC offsets naming the same instant, Decimals of one value in several spellings, dates,
enums with values of mixed types, literals, nested models, and untyped values nested in lists
and objects, plus integers and floats a store names (its edges, and values it never stores but
must compare in filters). Every query runs on the store and on the memory store (the
reference) and must give the same answer (count, find, a projected window, a cursor walk,
delete_many)::

    AWKWARD = AwkwardValues(stored_ints=[2**63 - 1], filter_ints=[2**64 + 1])


    @AWKWARD.given(max_examples=300)
    def test_same_answers_as_memory(case):
        AWKWARD.check(SQLiteStore, case)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tbone.data import Model, field
from tbone.storage import MemoryStore, Q, Store

__all__ = ["AwkwardValues", "Case", "Thing", "in_utc"]

Case = tuple[list[Any], Q | None, list[str], tuple[int | None, int]]
Normalise = Callable[[Any], dict[str, Any]]


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


def _things(stored_ints: Any, floats: Sequence[float]) -> Any:
    return st.builds(
        Thing,
        id=st.text("abc", min_size=1, max_size=3),
        s=st.none() | TEXT,
        n=st.none() | INTS | stored_ints,
        x=st.none() | st.sampled_from([0.0, 1.0, -2.5, 1.5, *floats]),
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


def _values(ints: Any, floats: Sequence[Any]) -> dict[str, Any]:
    return {
        "s": TEXT,
        "n": INTS | ints,
        "x": st.sampled_from([0.0, 1.0, 1, -2.5, *floats]),
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


def _leaf(values: dict[str, Any]) -> Any:
    return st.one_of(
        st.builds(
            lambda k, op, v: Q(**{f"{k}__{op}": v}),
            st.sampled_from(sorted(set(values) - {"owner__name"})),
            st.sampled_from(["exact", "ne"]),
            st.none(),
        ),
        *(
            st.builds(
                lambda op, v, k=k: Q(**{f"{k}__{op}": v}), st.sampled_from(["exact", "ne"]), values
            )
            for k, values in values.items()
        ),
        *(
            # ordering against null is a QueryError in every store (lookup.py), so never null
            st.builds(
                lambda op, v, k=k: Q(**{f"{k}__{op}": v}),
                st.sampled_from(["lt", "lte", "gt", "gte"]),
                values[k].filter(lambda v: v is not None),
            )
            for k in _ORDERED
        ),
        *(
            st.builds(
                lambda op, v, k=k: Q(**{f"{k}__{op}": v}),
                st.sampled_from(["in", "nin"]),
                st.lists(values if k == "owner__name" else st.none() | values, max_size=3),
            )
            for k, values in values.items()
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


def _queries(values: dict[str, Any]) -> Any:
    return st.recursive(
        _leaf(values),
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


async def _answers(store: Store, case: Case, normalise: Normalise) -> list[Any]:
    things, query, order, (limit, offset) = case
    where = () if query is None else (query,)
    async with store:
        coll = store.collection(Thing)
        await coll.insert_many([Thing.from_data(t.to_data(full=True)) for t in things])
        out: list[Any] = [await coll.count(*where)]
        out.append([normalise(t) for t in await coll.find(*where, order_by=order)])
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


def _plain(thing: Thing) -> dict[str, Any]:
    return thing.to_data(full=True)


def in_utc(thing: Thing) -> dict[str, Any]:
    """The stored form with its datetime in UTC, for stores that keep instants (MongoDB)."""
    data = thing.to_data(full=True)
    if thing.when is not None:
        data["when"] = thing.when.astimezone(dt.UTC).isoformat()
    return data


class AwkwardValues:
    """The generated cases and the check; ``stored_ints`` / ``floats`` are also stored,
    ``filter_ints`` / ``filter_floats`` only asked about."""

    def __init__(
        self,
        *,
        stored_ints: Sequence[int] = (),
        filter_ints: Sequence[int] = (),
        floats: Sequence[float] = (),
        filter_floats: Sequence[Any] = (),
        normalise: Normalise = _plain,
    ) -> None:
        stored = st.sampled_from(list(stored_ints)) if stored_ints else st.nothing()
        asked = st.sampled_from(list(filter_ints)) if filter_ints else st.nothing()
        values = _values(stored | asked, [*floats, *filter_floats])
        self.normalise = normalise
        self.cases = st.tuples(
            st.lists(_things(stored, floats), max_size=12, unique_by=lambda t: t.id),
            st.none() | _queries(values),
            ORDERS,
            st.tuples(st.none() | st.integers(0, 4), st.integers(0, 3)),
        )

    def given(self, *, max_examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
        """Decorate a test taking ``case`` (and any fixtures) with this strategy."""

        def wrap(test: Callable[..., None]) -> Callable[..., None]:
            settle = settings(
                max_examples=max_examples,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            )
            return settle(given(case=self.cases)(test))

        return wrap

    def check(self, make_store: Callable[[], Store], case: Case) -> None:
        """Run ``case`` on a fresh store and on the memory store: the answers must agree."""
        expected = asyncio.run(_answers(MemoryStore(), case, self.normalise))
        got = asyncio.run(_answers(make_store(), case, self.normalise))
        _, query, order, window = case
        assert got == expected, f"query={query!r} order={order} window={window}"
