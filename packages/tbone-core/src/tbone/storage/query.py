"""The query model: ``Q`` for people, an immutable typed tree for stores.

People write lookups (``year__gte=1960``) and combine them with :class:`Q`::

    Q(author="Herbert") | (Q(year__gte=1960) & ~Q(tags__contains="fantasy"))

:func:`compile_where` turns that, once, into a tree of :class:`Filter`, :class:`And`,
:class:`Or`, :class:`Not` and :class:`Search` nodes whose values are already typed by their
fields. Stores translate that tree into their native form; :func:`tbone.storage.matches`
evaluates it in Python and is the reference semantics.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal, TypeAlias

import attrs

from tbone.data import Model, pk_of
from tbone.errors import QueryError

from .lookup import LOOKUPS, load_value
from .path import Target, resolve, split_key

__all__ = [
    "And",
    "Filter",
    "Node",
    "Not",
    "Or",
    "Order",
    "Q",
    "Query",
    "Search",
    "compile_where",
    "conjoin",
    "parse_order",
]


@attrs.frozen
class Filter:
    """One condition: the value at ``target.path`` compared by ``lookup`` with ``value``.

    ``value`` is native (``datetime``, ``Decimal``, a tuple for ``in``/``nin``, a ``bool`` for
    ``exists``); :attr:`wire` is the same value in the JSON-ready form stores persist.
    """

    target: Target
    lookup: str
    value: Any

    @property
    def path(self) -> tuple[str, ...]:
        return self.target.path

    @property
    def wire(self) -> Any:
        if self.lookup in ("in", "nin"):
            return [self.target.dump(v) for v in self.value]
        if self.lookup == "contains" and self.target.kind == "list":
            return self.target.dump_item(self.value)
        if self.lookup in ("exists", "contains", "icontains", "startswith"):
            return self.value
        return self.target.dump(self.value)


@attrs.frozen
class And:
    """Every child matches."""

    children: tuple[Node, ...]


@attrs.frozen
class Or:
    """At least one child matches."""

    children: tuple[Node, ...]


@attrs.frozen
class Not:
    """The child does not match (documents where a compared field is null match ``Not``)."""

    child: Node


@attrs.frozen
class Search:
    """Text search: every word of ``text`` occurs (ignoring case) in one of ``targets``."""

    text: str
    targets: tuple[Target, ...]

    @property
    def terms(self) -> list[str]:
        return self.text.lower().split()


Node: TypeAlias = Filter | And | Or | Not | Search


@attrs.frozen
class Order:
    """Sort by ``target``; ``None``/missing sorts first ascending, so last descending."""

    target: Target
    descending: bool = False

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.target.dotted


@attrs.frozen
class Query:
    """Everything a store's ``find_docs`` is asked: filter, order, window and projection.

    ``order`` always ends with the primary key, so the order is total. ``fields`` lists the
    top-level fields to return (the primary key always included), ``None`` meaning all.
    """

    where: Node | None = None
    order: tuple[Order, ...] = ()
    limit: int | None = None
    offset: int = 0
    fields: frozenset[str] | None = None


class Q:
    """Lookups combined with ``&``, ``|`` and ``~``; compiled against a model when used.

    >>> q = Q(author="Herbert") | Q(year__gte=1960)
    >>> ~q
    ~(Q(author='Herbert') | Q(year__gte=1960))
    """

    __slots__ = ("children", "lookups", "op")

    def __init__(self, **lookups: Any) -> None:
        self.op: Literal["and", "or", "not"] = "and"
        self.lookups: tuple[tuple[str, Any], ...] = tuple(lookups.items())
        self.children: tuple[Q, ...] = ()

    @classmethod
    def _combine(cls, op: Literal["and", "or", "not"], *children: Q) -> Q:
        q = cls()
        q.op, q.children = op, children
        return q

    def __and__(self, other: Q) -> Q:
        return Q._combine("and", self, other)

    def __or__(self, other: Q) -> Q:
        return Q._combine("or", self, other)

    def __invert__(self) -> Q:
        return Q._combine("not", self)

    def __repr__(self) -> str:
        if self.op == "not":
            return f"~({self.children[0]!r})"
        if self.lookups:
            return "Q(" + ", ".join(f"{k}={v!r}" for k, v in self.lookups) + ")"
        joiner = " & " if self.op == "and" else " | "
        return joiner.join(repr(c) for c in self.children)


def compile_where(model: type[Model], *where: Q | Node, **lookups: Any) -> Node | None:
    """Compile ``Q`` objects, ready nodes and keyword lookups (all ANDed) into one node.

    Raises :class:`QueryError` naming an unknown field or lookup, or a value of the wrong type.
    """
    nodes = [_compile(model, w) if isinstance(w, Q) else w for w in where]
    nodes.extend(compile_lookup(model, key, value) for key, value in lookups.items())
    return conjoin(nodes)


def compile_lookup(model: type[Model], key: str, value: Any) -> Filter:
    """One ``field__lookup=value`` pair as a :class:`Filter` (``exact`` when no lookup)."""
    target, lookup = resolve_key(model, key)
    return Filter(target, lookup, load_value(target, lookup, value, [key]))


def resolve_key(model: type[Model], key: str) -> tuple[Target, str]:
    """``"year__gte"`` -> (the target of ``year``, ``"gte"``); errors name the bad part."""
    parts, lookup = split_key(key, LOOKUPS)
    try:
        target = resolve(model, parts, loc=key)
    except QueryError:
        _raise_if_unknown_lookup(model, parts, key)
        raise
    return target, lookup or "exact"


def _raise_if_unknown_lookup(model: type[Model], parts: list[str], key: str) -> None:
    # "year__greater": the field resolves without its last part, so that part is a bad lookup.
    if len(parts) < 2:
        return
    try:
        parent = resolve(model, parts[:-1], loc=key)
    except QueryError:
        return
    if parent.kind == "model":  # "author__nme": a misspelt field of the nested model
        return
    raise QueryError.single(
        [key],
        f"unknown lookup '{parts[-1]}' on '{'.'.join(parts[:-1])}'; allowed: {', '.join(LOOKUPS)}",
        "unknown_lookup",
    )


def _compile(model: type[Model], q: Q) -> Node:
    if q.op == "not":
        return Not(_compile(model, q.children[0]))
    if q.lookups:
        filters = [compile_lookup(model, k, v) for k, v in q.lookups]
        return filters[0] if len(filters) == 1 else And(tuple(filters))
    children = tuple(_compile(model, c) for c in q.children)
    if not children:
        return And(())
    return And(children) if q.op == "and" else Or(children)


def conjoin(nodes: Iterable[Node | None]) -> Node | None:
    """AND the given nodes together, dropping ``None``; ``None`` when nothing is left."""
    kept = [n for n in nodes if n is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else And(tuple(kept))


def parse_order(model: type[Model], order_by: Sequence[str] | str) -> tuple[Order, ...]:
    """``["-year", "title"]`` (or ``"-year,title"``) as orders, the primary key appended last."""
    items = order_by.split(",") if isinstance(order_by, str) else list(order_by)
    orders = [_parse_one(model, item.strip()) for item in items if item.strip()]
    pk = pk_of(model)
    if not any(o.target.path == (pk,) for o in orders):
        orders.append(Order(resolve(model, [pk])))
    return tuple(orders)


def _parse_one(model: type[Model], item: str) -> Order:
    descending = item.startswith("-")
    name = item.lstrip("+-")
    target = resolve(model, [p for c in name.split("__") for p in c.split(".")], loc=item)
    if target.kind not in ("scalar", "any"):
        raise QueryError.single(
            ["order_by"], f"cannot order by '{name}': it holds a {target.kind}", "order_field"
        )
    return Order(target, descending)


def search_targets(model: type[Model], fields: Sequence[str] | None) -> tuple[Target, ...]:
    """The targets text search looks in: ``fields``, or every top-level text field."""
    from tbone.data import fields_of

    if fields is None:
        names = [n for n, f in fields_of(model).items() if f.converter.python_type is str]
    else:
        names = list(fields)
    return tuple(resolve(model, n.split("."), loc=n) for n in names)
