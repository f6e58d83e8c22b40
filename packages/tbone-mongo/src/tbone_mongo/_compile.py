"""Query trees to MQL: filters, sorts and projections that MongoDB evaluates exactly as
:func:`tbone.storage.matches` and :func:`tbone.storage.sort_records` do.

Every value is converted by its field's type and placed under an explicit operator (``$eq``,
``$in``, ``$lt``, ``$regex`` of escaped text, ...), never as a bare query document, so nothing a
caller sends can become an operator. Where MongoDB's meaning differs from the reference, the
compiler says so by returning ``None`` for that node, and the store evaluates it in Python:

- MongoDB's equality reaches into arrays (``{a: 1}`` matches ``a: [1, 2]``): untyped (``Any``)
  paths get a "not an array" guard, and list fields use ``$elemMatch``;
- it compares embedded documents field order included: free-form dicts compare in Python
  (nested models are stored in their declared field order, so they compare natively);
- it ranks types differently when sorting (booleans after objects, arrays by an element):
  untyped and enum keys sort in Python, typed keys (text, numbers, dates, ...) in MongoDB;
- ``$exists`` counts a stored ``null`` as present: ``exists`` compiles to ``$ne: null``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final

from tbone.storage import And, Filter, Node, Not, Or, Order, Search, Target, expand_search
from tbone.storage.path import resolve

from ._codec import Codec, escape_key, plan_of
from ._objectid import ObjectId

__all__ = ["MQL", "Compiler", "regex_literal"]

MQL = dict[str, Any]

NOTHING: Final[MQL] = {"_id": {"$in": []}}
_ORDERED: Final = {"lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte"}
_TYPED: Final = frozenset(
    {str, int, float, bool, dt.datetime, dt.date, Decimal, uuid.UUID, ObjectId}
)
"""Field types whose stored values MongoDB compares and sorts as the reference does."""
_NOT_ARRAY: Final = {"$not": {"$type": "array"}}
_JSON_SCALARS: Final = (str, int, float, bool, type(None))


def regex_literal(text: str) -> str:
    """A regular expression matching ``text`` literally (in PCRE and in Python's ``re``)."""
    out = []
    for c in text:
        if c.isalnum() or c == "_" or ord(c) > 127:
            out.append(c)
        elif ord(c) < 32 or ord(c) == 127:
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append("\\" + c)
    return "".join(out)


def _plain_case(text: str) -> bool:
    """Whether regex case folding of ``text`` agrees with ``str.lower`` (most text does)."""
    for c in text:
        if ord(c) < 128:
            continue
        low, up = c.lower(), c.upper()
        if len(low) != 1 or len(up) != 1 or low.isascii() or low != c.casefold():
            return False
    return True


class Compiler:
    """Compiles query parts for one collection's model."""

    def __init__(self, model: Any, codec: Codec, *, text_index: bool = False) -> None:
        self.model = model
        self.codec = codec
        self.text_index = text_index

    # -- filters ---------------------------------------------------------------------------

    def where(self, node: Node | None) -> tuple[MQL, bool]:
        """The filter for ``node`` and whether it is exact; when it is not, it is a superset
        (every matching document, and maybe more) that the store narrows in Python."""
        if node is None:
            return {}, True
        exact = self.node(node)
        if exact is not None:
            return self._hoist_text(node, exact), True
        return self._superset(node), False

    def node(self, node: Node) -> MQL | None:
        if isinstance(node, Filter):
            return self.filter(node)
        if isinstance(node, And):
            parts = [self.node(c) for c in node.children]
            if any(p is None for p in parts):
                return None
            return {"$and": parts} if parts else {}
        if isinstance(node, Or):
            parts = [self.node(c) for c in node.children]
            if any(p is None for p in parts):
                return None
            return {"$or": parts} if parts else dict(NOTHING)
        if isinstance(node, Not):
            child = self.node(node.child)
            return None if child is None else {"$nor": [child]}
        return self.node(expand_search(node))  # Search: its exact meaning, as icontains

    def _superset(self, node: Node) -> MQL:
        if isinstance(node, And):
            parts = [self._superset(c) for c in node.children]
            kept = [p for p in parts if p]
            return {"$and": kept} if kept else {}
        exact = self.node(node)
        return {} if exact is None else exact

    def _hoist_text(self, node: Node, exact: MQL) -> MQL:
        # With a text index, a top-level search also asks $text, which uses the index; the
        # exact (icontains) condition still decides. $text is only allowed at the top level.
        if not self.text_index:
            return exact
        children = node.children if isinstance(node, And) else (node,)
        searches = [c for c in children if isinstance(c, Search)]
        if not searches:
            return exact
        words = " ".join('"' + t.replace('"', " ") + '"' for s in searches for t in s.terms)
        return {"$and": [{"$text": {"$search": words}}, exact]}

    def filter(self, f: Filter) -> MQL | None:
        path = self.path(f.target)
        if path is None or self._through_any(f.target):
            return None
        if f.lookup in ("ne", "nin"):
            positive = Filter(f.target, "exact" if f.lookup == "ne" else "in", f.value)
            inner = self.filter(positive)
            return None if inner is None else {"$nor": [inner]}
        if f.lookup == "exists":
            return self._exists(f, path)
        kind = f.target.kind
        if kind == "list":
            return self._list(f, path)
        if kind in ("model", "object"):
            return self._document(f, path)
        if kind == "scalar" and f.target.converter.python_type in _TYPED:
            return self._typed(f, path)
        if _untyped(f.target):
            return self._untyped(f, path)
        return None

    def _exists(self, f: Filter, path: str) -> MQL:
        if f.target.kind in ("list", "any") or _untyped(f.target):
            present: MQL = {"$or": [{path: {"$type": "array"}}, {path: {"$ne": None}}]}
            return present if f.value else {"$nor": [present]}
        # ``$ne`` is the negation of ``$eq``: absent is ``{path: null}``, which an index answers
        # (a keyset cursor's leading bound descending asks "at most v, or null")
        return {path: {"$ne": None}} if f.value else {path: None}

    def _typed(self, f: Filter, path: str) -> MQL | None:
        to = plan_of(f.target.converter).to_bson
        if f.lookup == "exact":
            return {path: None} if f.value is None else {path: {"$eq": _conv(to, f.wire)}}
        if f.lookup == "in":
            return {path: {"$in": [_conv(to, v) for v in f.wire]}}
        if f.lookup in _ORDERED:
            return {path: {_ORDERED[f.lookup]: _conv(to, f.wire)}}
        if f.target.converter.python_type is str:
            return _text(f.lookup, path, f.wire)
        return None

    def _untyped(self, f: Filter, path: str) -> MQL | None:
        wire = f.wire
        values = wire if f.lookup == "in" else [wire]
        if not all(isinstance(v, _JSON_SCALARS) for v in values):
            return None if f.lookup in ("exact", "in", "contains") else dict(NOTHING)
        if f.lookup == "exact":
            cond: MQL = {path: None} if wire is None else {path: {"$eq": query_value(wire)}}
        elif f.lookup == "in":
            cond = {path: {"$in": [query_value(v) for v in values]}}
        elif f.lookup in _ORDERED:
            cond = {path: {_ORDERED[f.lookup]: query_value(wire)}}
        elif f.lookup in ("icontains", "startswith") and isinstance(wire, str):
            text = _text(f.lookup, path, wire)
            if text is None:
                return None
            cond = text
        else:
            return None  # contains: a substring of text or an item of a list, items untyped
        return {"$and": [{path: _NOT_ARRAY}, cond]}

    def _list(self, f: Filter, path: str) -> MQL | None:
        item = f.target.item
        if not (item.python_type in _TYPED or item.model is not None):
            return None
        to = plan_of(item).to_bson
        if f.lookup == "contains":
            return {path: {"$elemMatch": {"$eq": _conv(to, f.wire)}}}
        if f.lookup == "exact":
            return self._list_equal(path, f.wire, to)
        if f.lookup == "in":
            return {"$or": [self._list_equal(path, v, to) for v in f.wire]} if f.wire else NOTHING
        return None

    def _list_equal(self, path: str, value: Any, to: Any) -> MQL:
        if value is None:
            return {"$and": [{path: None}, {path: _NOT_ARRAY}]}
        return {path: {"$eq": [_conv(to, v) for v in value]}}

    def _document(self, f: Filter, path: str) -> MQL | None:
        # Nested models are stored in their declared field order, so equality is exact;
        # free-form dicts may hold their keys in any order: compared in Python.
        to = plan_of(f.target.converter).to_bson
        values = f.wire if f.lookup == "in" else [f.wire]
        if f.lookup not in ("exact", "in"):
            return None
        if f.target.kind == "object" and any(v is not None for v in values):
            return None
        conds = [{path: None} if v is None else {path: {"$eq": _conv(to, v)}} for v in values]
        if f.lookup == "exact":
            return conds[0]
        return {"$or": conds} if conds else dict(NOTHING)

    # -- paths -----------------------------------------------------------------------------

    def path(self, target: Target) -> str | None:
        """The dotted MongoDB path of ``target``; ``None`` if MongoDB cannot name it."""
        parts = target.path
        out = [self.codec.stored_name(parts[0])]
        for i in range(1, len(parts)):
            parent = resolve(self.model, parts[:i])
            part = parts[i]
            out.append(escape_key(part) if parent.kind in ("object", "any") else part)
        if any(not p for p in out):
            return None
        return ".".join(out)

    def _through_any(self, target: Target) -> bool:
        """Whether an untyped value lies on the way (it may be an array MongoDB would enter)."""
        parts = target.path
        return any(resolve(self.model, parts[:i]).kind == "any" for i in range(1, len(parts)))

    # -- ordering and projection --------------------------------------------------------------

    def sort(self, order: Sequence[Order]) -> list[tuple[str, int]] | None:
        """The sort specification, or ``None`` when some key must be sorted in Python."""
        spec = []
        for o in order:
            path = self.path(o.target)
            typed = o.target.kind == "scalar" and o.target.converter.python_type in _TYPED
            if path is None or not typed or self._through_any(o.target):
                return None
            spec.append((path, -1 if o.descending else 1))
        return spec

    def projection(self, fields: frozenset[str] | None) -> dict[str, int] | None:
        if fields is None:
            return None
        spec = {self.codec.stored_name(name): 1 for name in fields}
        spec["_v"] = 1
        return spec


def _untyped(target: Target) -> bool:
    conv = target.converter
    return (
        target.kind == "any"
        or (target.kind == "scalar" and conv.dump is None and conv.model is None)
        or (target.kind == "scalar" and _is_enum(conv.python_type))
    )


def _is_enum(tp: Any) -> bool:
    import enum

    return isinstance(tp, type) and issubclass(tp, enum.Enum)


def _conv(to: Any, value: Any) -> Any:
    return query_value(value if to is None or value is None else to(value))


_INT64 = range(-(2**63), 2**63)


def query_value(value: Any) -> Any:
    """A value as a query compares it: an integer outside BSON's 64 bits (which no stored
    integer can be) as the number it is, a Decimal128 where that is exact, else a double,
    so that it matches nothing equal to it and orders where it belongs."""
    if type(value) is not int or value in _INT64:
        return value
    from bson.decimal128 import Decimal128  # the driver, imported with the store

    if len(str(abs(value))) <= 34:
        return Decimal128(str(value))
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def _text(lookup: str, path: str, text: str) -> MQL | None:
    if lookup == "contains":
        return {path: {"$regex": regex_literal(text)}}
    if lookup == "startswith":
        return {path: {"$regex": "^" + regex_literal(text)}}
    if lookup == "icontains" and _plain_case(text):
        return {path: {"$regex": regex_literal(text), "$options": "i"}}
    return None
