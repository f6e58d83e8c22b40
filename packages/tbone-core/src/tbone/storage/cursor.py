"""Keyset cursors: resume a sorted listing after the last document of a page.

A cursor is opaque to clients: URL-safe base64 of JSON ``{"o": order, "v": values}`` holding the
sort key of the last document (primary key included). It is checked when decoded: a cursor made
for another ordering, or one that does not decode into values of the ordered fields, is a
:class:`QueryError`. Resuming is a plain filter (:func:`after`), so every store supports cursors
without doing anything, and documents inserted between pages cause no duplicates or gaps.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from tbone.errors import QueryError
from tbone.jsontext import encode_bytes

from .query import And, Filter, Node, Or, Order
from .store import Document

__all__ = ["after", "decode_cursor", "encode_cursor", "value_at"]


def value_at(doc: Any, path: Sequence[str]) -> Any:
    """The value at ``path`` in a JSON-ready document; ``None`` when any step is missing."""
    for name in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(name)
    return doc


def encode_cursor(order: Sequence[Order], doc: Document) -> str:
    """The cursor that resumes ``order`` after ``doc``."""
    payload = {"o": [str(o) for o in order], "v": [value_at(doc, o.target.path) for o in order]}
    return base64.urlsafe_b64encode(encode_bytes(payload)).decode().rstrip("=")


def decode_cursor(order: Sequence[Order], cursor: str) -> list[Any]:
    """The native sort-key values a cursor holds, checked against ``order``."""
    payload = _payload(cursor)
    expected = [str(o) for o in order]
    if payload.get("o") != expected:
        raise _bad("it was made for another ordering; start again without a cursor")
    values = payload.get("v")
    if not isinstance(values, list) or len(values) != len(order):
        raise _bad("it is malformed")
    try:
        return [None if v is None else o.target.load(v) for o, v in zip(order, values, strict=True)]
    except QueryError:
        raise _bad("its values do not fit the ordered fields") from None


def _payload(cursor: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _bad("it is not a cursor this API produced") from None
    if not isinstance(payload, dict):
        raise _bad("it is not a cursor this API produced")
    return payload


def _bad(why: str) -> QueryError:
    return QueryError([{"loc": ["cursor"], "msg": f"invalid cursor: {why}", "type": "cursor"}])


def after(order: Sequence[Order], values: Sequence[Any]) -> Node:
    """Documents strictly after ``values`` in ``order`` (None first ascending, last descending).

    With several keys the condition is led by a redundant bound on the first one ("at or after
    its value", implied by every branch), which a store can answer from an index on that key:
    without it, ``a > x OR (a = x AND ...)`` makes SQL planners walk from the start.
    """
    branches: list[Node] = []
    for i, (o, v) in enumerate(zip(order, values, strict=True)):
        step = _after_one(o, v)
        if step is None:
            continue
        equal = [_equal(p, w) for p, w in zip(order[:i], values[:i], strict=True)]
        branches.append(And((*equal, step)) if equal else step)
    keyset = Or(tuple(branches))
    bound = _at_or_after(order[0], values[0]) if len(branches) > 1 else None
    return keyset if bound is None else And((bound, keyset))


def _equal(o: Order, v: Any) -> Filter:
    return Filter(o.target, "exists", False) if v is None else Filter(o.target, "exact", v)


def _after_one(o: Order, v: Any) -> Node | None:
    if not o.descending:
        return Filter(o.target, "exists", True) if v is None else Filter(o.target, "gt", v)
    if v is None:
        return None  # None is last descending: nothing comes after it
    return Or((Filter(o.target, "lt", v), Filter(o.target, "exists", False)))


def _at_or_after(o: Order, v: Any) -> Node | None:
    """The documents whose first key is ``v`` or after it: implied by each branch of
    :func:`after` (``gt``/``lt``, or equal to ``v``); ``None`` when it bounds nothing."""
    if isinstance(v, dict | list | tuple | set | frozenset):
        return None  # unordered values: equal to ``v`` does not imply ``gte v``
    if not o.descending:
        return None if v is None else Filter(o.target, "gte", v)
    if v is None:
        return Filter(o.target, "exists", False)  # None is last descending
    return Or((Filter(o.target, "lte", v), Filter(o.target, "exists", False)))
