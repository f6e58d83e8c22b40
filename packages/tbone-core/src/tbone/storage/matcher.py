"""The reference semantics of queries: evaluating a tree and sorting, in plain Python.

Values are compared in their native types (a stored ISO string becomes a ``datetime``, a stored
decimal string a ``Decimal``), loaded by the path's converter. Across types (only possible in
untyped ``Any`` data) values are ranked: null < numbers < text < booleans < other scalars <
objects < lists; range lookups (``lt``...) only match values of the same rank, and ``True`` never
equals ``1``. A missing value is ``null``.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from tbone.data import Model

from .cursor import value_at
from .lookup import Values
from .path import Target
from .query import And, Filter, Node, Not, Or, Order, Search
from .store import Document, Record

__all__ = ["hash_key", "matches", "native_at", "sort_key", "sort_records"]


def matches(query: Node | None, document: Document | Model) -> bool:
    """Whether ``document`` (a model, or its ``to_data(full=True)`` form) satisfies ``query``.

    ``None`` matches everything. This is the meaning every store must reproduce.
    """
    if query is None:
        return True
    doc = document.to_data(full=True) if isinstance(document, Model) else document
    return _eval(query, doc)


def _eval(node: Node, doc: Document) -> bool:
    if isinstance(node, Filter):
        return _LOOKUPS[node.lookup](_native(node.target, doc), node.value)
    if isinstance(node, And):
        return all(_eval(c, doc) for c in node.children)
    if isinstance(node, Or):
        return any(_eval(c, doc) for c in node.children)
    if isinstance(node, Not):
        return not _eval(node.child, doc)
    return _search(node, doc)


def native_at(target: Target, doc: Document) -> Any:
    """The native value at ``target``'s path in a stored-form document (None if missing)."""
    return _native(target, doc)


def _native(target: Target, doc: Document) -> Any:
    raw = value_at(doc, target.path)
    return None if raw is None else target.converter.load(raw)


def _search(node: Search, doc: Document) -> bool:
    texts = [str(v).lower() for t in node.targets if (v := value_at(doc, t.path)) is not None]
    return all(any(term in text for text in texts) for term in node.terms)


# -- ranks, equality and order ------------------------------------------------------------------


_RANKS: dict[type, int] = {
    type(None): 0,
    int: 1,
    float: 1,
    Decimal: 1,
    str: 2,
    bool: 3,
    dict: 5,
    list: 6,
}


def _rank(v: Any) -> int:
    rank = _RANKS.get(type(v))  # the exact JSON types, without the isinstance chain below
    if rank is not None:
        return rank
    if v is None:
        return 0
    if isinstance(v, bool):
        return 3
    if isinstance(v, int | float | Decimal):
        return 1
    if isinstance(v, str):
        return 2
    if isinstance(v, dict | Model):
        return 5
    if isinstance(v, list | tuple | set | frozenset):
        return 6
    return 4


def _plain(v: Any) -> Any:
    return v.value if isinstance(v, enum.Enum) else v


def same(a: Any, b: Any) -> bool:
    """Equality that keeps types apart (``True`` is not ``1``), recursively."""
    a, b = _plain(a), _plain(b)
    if _rank(a) != _rank(b):
        return False
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


def sort_key(v: Any) -> tuple[Any, ...]:
    """A key ordering any two values: by rank, then by value within a rank."""
    if type(v) is str:  # the common case (keys, names), decided without the general path
        return (2, v)
    v = _plain(v)
    rank = _rank(v)
    if rank == 0:
        return (0,)
    if rank >= 4 and not _orderable(v):
        return (rank, json.dumps(v, sort_keys=True, default=str))
    return (rank, v)


def _orderable(v: Any) -> bool:
    return not isinstance(v, dict | list | tuple | set | frozenset | Model)


def _ordered(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(doc_value: Any, value: Any) -> bool:
        a, b = _plain(doc_value), _plain(value)
        return a is not None and _rank(a) == _rank(b) and _orderable(a) and op(a, b)

    return compare


def hash_key(v: Any) -> tuple[int, Any] | None:
    """A key under which ``same`` values collide, for hashable scalars; None otherwise."""
    v = _plain(v)
    rank = _rank(v)
    if rank >= 5:
        return None
    try:
        hash(v)
    except TypeError:
        return None
    return (rank, v)


def _member_index(values: Sequence[Any]) -> tuple[frozenset[Any], tuple[Any, ...]]:
    keys, others = set(), []
    for x in values:
        key = hash_key(x)
        if key is None:
            others.append(x)
        else:
            keys.add(key)
    return frozenset(keys), tuple(others)


def _member(doc_value: Any, values: Sequence[Any]) -> bool:
    if isinstance(values, Values):
        index = values.lookup_cache
        if index is None:
            index = values.lookup_cache = _member_index(values)
    else:
        index = _member_index(values)
    keys, others = index
    key = hash_key(doc_value)
    if key is not None and key in keys:
        return True
    return any(same(doc_value, x) for x in others)


def _contains(doc_value: Any, value: Any) -> bool:
    if isinstance(doc_value, str):
        return isinstance(value, str) and value in doc_value
    if isinstance(doc_value, list | tuple | set | frozenset):
        return any(same(item, value) for item in doc_value)
    return False


def _text(op: Callable[[str, str], bool]) -> Callable[[Any, Any], bool]:
    def compare(doc_value: Any, value: Any) -> bool:
        return isinstance(doc_value, str) and op(doc_value, value)

    return compare


_LOOKUPS: dict[str, Callable[[Any, Any], bool]] = {
    "exact": same,
    "ne": lambda a, b: not same(a, b),
    "lt": _ordered(lambda a, b: a < b),
    "lte": _ordered(lambda a, b: a <= b),
    "gt": _ordered(lambda a, b: a > b),
    "gte": _ordered(lambda a, b: a >= b),
    "in": lambda a, b: _member(a, b),
    "nin": lambda a, b: not _member(a, b),
    "contains": _contains,
    "icontains": _text(lambda a, b: b.lower() in a.lower()),
    "startswith": _text(str.startswith),
    "exists": lambda a, b: (a is not None) is b,
}


def sort_records(records: Iterable[Record], order: Sequence[Order]) -> list[Record]:
    """``records`` sorted by ``order``: null first ascending (so last descending)."""
    result = list(records)
    for o in reversed(order):  # stable sorts, least significant key first
        result.sort(key=_record_key(o.target), reverse=o.descending)
    return result


def _record_key(target: Target) -> Callable[[Record], tuple[Any, ...]]:
    if len(target.path) == 1 and target.converter.python_type is str:
        name = target.path[0]

        def text_key(record: Record) -> tuple[Any, ...]:
            # A plain text field: stored strings are already native, skip the conversion.
            raw = record.doc.get(name)
            return (2, raw) if type(raw) is str else sort_key(_native(target, record.doc))

        return text_key

    def key(record: Record) -> tuple[Any, ...]:
        return sort_key(_native(target, record.doc))

    return key
