"""after(): the keyset condition, with its leading bound, keeps exactly the documents after one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tbone import Model, field
from tbone.storage import And, Filter, Or, matches, parse_order, sort_records
from tbone.storage.cursor import after, value_at
from tbone.storage.store import Record


class Row(Model):
    id: int = field(primary_key=True)
    a: int | None = None
    b: str | None = None


ORDERS = [("a",), ("-a",), ("a", "b"), ("-a", "b"), ("b", "-a"), ("-b",), ()]

rows = st.lists(
    st.builds(
        Row,
        id=st.integers(0, 30),
        a=st.none() | st.integers(0, 3),
        b=st.none() | st.sampled_from(["", "x", "y"]),
    ),
    max_size=12,
    unique_by=lambda r: r.id,
)


@settings(max_examples=200, deadline=None)
@given(rows=rows, order_by=st.sampled_from(ORDERS))
def test_after_keeps_exactly_the_documents_sorted_after(
    rows: list[Row], order_by: tuple[str, ...]
) -> None:
    order = parse_order(Row, order_by)
    docs = [r.to_data(full=True) for r in rows]
    ranked = [r.doc for r in sort_records([Record(d, 1) for d in docs], order)]
    for i, last in enumerate(ranked):
        node = after(order, [value_at(last, o.target.path) for o in order])
        kept = [d for d in ranked if matches(node, d)]
        assert kept == ranked[i + 1 :], (order_by, last)


def test_several_keys_are_led_by_a_bound_on_the_first() -> None:
    order = parse_order(Row, ["a"])
    node = after(order, [2, 7])
    assert isinstance(node, And)
    assert node.children[0] == Filter(order[0].target, "gte", 2)
    descending = after(parse_order(Row, ["-a"]), [2, 7])
    assert isinstance(descending, And)
    assert descending.children[0] == Or(
        (Filter(order[0].target, "lte", 2), Filter(order[0].target, "exists", False))
    )
    # None sorts first ascending: nothing to bound; last descending: one branch, led by None
    assert isinstance(after(order, [None, 7]), Or)
    assert isinstance(after(parse_order(Row, ["-a"]), [None, 7]), Or)
    three = after(parse_order(Row, ["-a", "b"]), [None, "x", 7])
    assert isinstance(three, And)
    assert three.children[0] == Filter(order[0].target, "exists", False)


def test_one_key_needs_no_bound() -> None:
    order = parse_order(Row, [])
    assert after(order, [5]) == Or((Filter(order[0].target, "gt", 5),))
