"""Descending keyset pages from an index: ``x < v OR x IS NULL`` answered as two ranges.

A descending cursor resumes "after" ``v`` in an order where nulls come last, so its filter holds
``x < v OR x IS NULL`` (``tbone.storage.cursor.after``). SQLite's planner cannot seek an index
for an ``OR`` of a range and ``IS NULL``: it walks the index from the top and tests every entry,
so page 500 costs 500 pages. Split at that conjunct, the filter is two disjoint halves (``x < v``,
a range the index seeks, and ``x IS NULL``, an equality it seeks too), and the first ``offset +
limit`` rows of the whole, in any total order, are among the first ``offset + limit`` of each
half. So one statement takes those of each half, each from its index, and sorts the at most
``2 * (offset + limit)`` rows again by the same keys: the same rows in the same order as the
single query, at the cost of the rows read, not of the depth.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from tbone.storage import And, Filter, Node, Or, Query

from ._compile import SQLBuilder, flatten, sort_term

__all__ = ["Halves", "halves", "halves_sql"]

_BELOW = frozenset({"lt", "lte"})


class Halves(NamedTuple):
    """``query.where`` as ``rest AND (below OR null)``: the halves are ``rest AND below`` and
    ``rest AND null``."""

    rest: Node | None
    below: Filter
    null: Filter


def halves(query: Query, pk: str) -> Halves | None:
    """The two halves of ``query.where``, when a window is asked and a conjunct of the filter
    is ``x < v OR x IS NULL`` (or ``<=``) on the first key of a descending order; else ``None``."""
    if query.limit is None or not query.order or not query.order[0].descending:
        return None
    target = query.order[0].target
    if target.path == (pk,) or query.where is None:
        return None  # every row has its key: nothing is null
    where = query.where
    conjuncts = flatten(where) if isinstance(where, And) else [where]
    for i, node in enumerate(conjuncts):
        split = _split(node, target)
        if split is not None:
            rest = (*conjuncts[:i], *conjuncts[i + 1 :])
            return Halves(And(rest) if rest else None, *split)
    return None


def _split(node: Node, target: object) -> tuple[Filter, Filter] | None:
    if not isinstance(node, Or) or len(node.children) != 2:
        return None
    below, null = node.children
    if isinstance(null, Filter) and null.lookup in _BELOW:
        below, null = null, below
    if not (isinstance(below, Filter) and below.lookup in _BELOW and below.target == target):
        return None
    if isinstance(null, Filter) and null.lookup == "exists" and null.value is False:
        return (below, null) if null.target == target else None
    return None


def halves_sql(
    b: SQLBuilder,
    table: str,
    query: Query,
    parts: Halves,
    terms: Sequence[tuple[str, bool]],
) -> str:
    """``SELECT version, doc`` of the window of ``query``, from its two halves ``parts``;
    ``terms`` are its ORDER BY expressions (they bind nothing)."""
    assert query.limit is not None  # halves() splits windows only
    keys = ", ".join(f"{expr} AS k{i}" for i, (expr, _) in enumerate(terms))
    inner = ", ".join(sort_term(expr, descending) for expr, descending in terms)
    outer = ", ".join(sort_term(f"k{i}", descending) for i, (_, descending) in enumerate(terms))
    window = query.offset + query.limit
    # the rest of the filter is compiled once: both halves repeat its text and its parameters
    mark = len(b.params)
    rest = b.where(parts.rest)
    rest_params = b.params[mark:]
    del b.params[mark:]

    def select(half: Filter) -> str:
        b.params.extend(rest_params)  # in text order: the rest's, the half's, then the limit
        where = f"{rest} AND {b.where(half)}"
        return (
            f"SELECT * FROM (SELECT version, doc, {keys} FROM {table} WHERE {where} "
            f"ORDER BY {inner} LIMIT {b.bind(window)})"
        )

    selects = [select(parts.below), select(parts.null)]
    return (
        f"SELECT version, doc FROM ({' UNION ALL '.join(selects)}) ORDER BY {outer} "
        f"LIMIT {b.bind(query.limit)} OFFSET {b.bind(query.offset)}"
    )
