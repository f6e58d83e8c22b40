"""Kit behaviours: differential property tests against the memory store (hypothesis).

Generated documents and queries (filters nested with AND/OR/NOT, orderings, windows, cursor walks)
must give the store under test exactly what the memory store gives.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tbone.storage import MemoryStore, Q

from .kit import Behaviour, MakeStore, behaviour
from .models import KitItem

__all__ = ["BEHAVIOURS"]

_TEXT = "abAB é"
_TAGS = ["x", "y", "z", "É"]


def _strategies(untyped: bool) -> tuple[Any, Any, Any]:
    from hypothesis import strategies as st

    ints = st.integers(-3, 3)
    text = st.text(_TEXT, max_size=3)
    any_value = st.one_of(st.none(), ints, st.sampled_from(["a", "b", "1"]), st.booleans())
    extra = st.dictionaries(st.just("k"), any_value, max_size=1) if untyped else st.just({})
    item = st.builds(
        KitItem,
        id=st.text("0123456789abcdef", min_size=1, max_size=6),
        n=st.none() | ints,
        s=text,
        flag=st.booleans(),
        tags=st.lists(st.sampled_from(_TAGS), max_size=3),
        extra=extra,
    )
    leaves = [
        st.builds(
            lambda op, v: Q(**{f"n__{op}": v}),
            st.sampled_from(["exact", "ne", "lt", "lte", "gt", "gte"]),
            ints,
        ),
        st.builds(
            lambda op, v: Q(**{f"n__{op}": v}),
            st.sampled_from(["in", "nin"]),
            st.lists(ints, max_size=3),
        ),
        st.builds(lambda v: Q(n=v), st.none()),
        st.builds(lambda v: Q(n__exists=v), st.booleans()),
        st.builds(
            lambda op, v: Q(**{f"s__{op}": v}),
            st.sampled_from(["exact", "contains", "icontains", "startswith", "lt", "gte"]),
            text,
        ),
        st.builds(lambda v: Q(flag=v), st.booleans()),
        st.builds(lambda v: Q(tags__contains=v), st.sampled_from(_TAGS)),
    ]
    if untyped:
        leaves += [
            st.builds(
                lambda op, v: Q(**{f"extra__k__{op}": v}),
                st.sampled_from(["exact", "ne"]),
                any_value,
            ),
            st.builds(lambda v: Q(extra__k__in=v), st.lists(any_value, max_size=2)),
            st.builds(lambda v: Q(extra__k__exists=v), st.booleans()),
        ]
    query = st.recursive(
        st.one_of(*leaves),
        lambda inner: st.one_of(
            st.builds(lambda a, b: a & b, inner, inner),
            st.builds(lambda a, b: a | b, inner, inner),
            st.builds(lambda a: ~a, inner),
        ),
        max_leaves=6,
    )
    keys = ["n", "s", "flag", "extra.k"] if untyped else ["n", "s", "flag"]
    order = st.lists(st.sampled_from(keys), unique=True, max_size=3).flatmap(
        lambda names: st.tuples(*[st.sampled_from([k, f"-{k}"]) for k in names]).map(list)
    )
    items = st.lists(item, max_size=20, unique_by=lambda i: i.id)
    return items, st.one_of(st.none(), query), order


def _differential(make_store: MakeStore, untyped: bool) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    items, queries, orders = _strategies(untyped)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        items=items,
        query=queries,
        order=orders,
        window=st.tuples(st.none() | st.integers(0, 5), st.integers(0, 4)),
    )
    def check(
        items: list[KitItem], query: Q | None, order: list[str], window: tuple[int | None, int]
    ) -> None:
        asyncio.run(_compare(make_store, items, query, order, window))

    check()


async def _compare(make_store: MakeStore, items: list[KitItem], query: Q | None,
                   order: list[str], window: tuple[int | None, int]) -> None:  # fmt: skip
    where = () if query is None else (query,)
    expected: list[Any] = []
    got: list[Any] = []
    store = await make_store()
    async with MemoryStore() as reference, store:
        for s, out in ((reference, expected), (store, got)):
            coll = s.collection(KitItem, "kit_items")
            await coll.insert_many([KitItem.from_data(i.to_data(full=True)) for i in items])
            out.append(await coll.count(*where))
            everything = [i.id for i in await coll.find(*where, order_by=order)]
            out.append(everything)
            out.append(
                [
                    i.id
                    for i in await coll.find(
                        *where, order_by=order, limit=window[0], offset=window[1]
                    )
                ]
            )
            walked = await _walk(coll, where, order)
            if coll.supports_cursor(order):  # a cursor walk sees everything, once, in order
                assert walked == everything, f"cursor walk {walked} != {everything} ({order})"
            out.append(walked)
    assert got == expected, f"query={query!r} order={order} window={window}: {got} != {expected}"


async def _walk(coll: Any, where: tuple[Q, ...], order: list[str]) -> list[str]:
    seen: list[str] = []
    page = await coll.find(*where, order_by=order, limit=3)
    while True:
        seen += [i.id for i in page]
        if page.next_cursor is None:
            return seen
        page = await coll.find(*where, order_by=order, limit=3, cursor=page.next_cursor)


@behaviour("differential", fresh=True)
def differential(make_store: MakeStore) -> None:
    """Generated typed documents and queries give the memory store's results."""
    _differential(make_store, untyped=False)


@behaviour("differential_untyped", fresh=True)
def differential_untyped(make_store: MakeStore) -> None:
    """The same with untyped (``Any``) values of mixed types: ranks, and True is not 1."""
    _differential(make_store, untyped=True)


BEHAVIOURS: tuple[Behaviour, ...] = (differential, differential_untyped)
