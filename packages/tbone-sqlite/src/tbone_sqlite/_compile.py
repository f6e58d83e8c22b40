"""Query trees to SQL: ``WHERE`` over ``json_extract`` and ``ORDER BY`` in the reference order.

Values are always bound parameters; only model field names (checked by ``IDENT``) and fixed
keywords are written into SQL text. Every filter compiles either to SQL that gives exactly what
:func:`tbone.storage.matches` gives, or to ``tbone_match(?, doc)``, which evaluates that node
with the reference matcher in Python (see ``_functions``): the WHERE clause is always exact, so
``LIMIT``, ``OFFSET`` and ``count(*)`` stay in SQL.

Two SQLite facts shape the SQL:

- Three-valued logic: ``json_extract`` of a missing value is ``NULL`` and ``NULL < 1`` is
  ``NULL``, which ``NOT`` keeps ``NULL``. The reference is two-valued, so filters under a ``Not``
  are wrapped in ``IFNULL(..., 0)``.
- ``json_extract`` cuts a string at an escaped NUL (``"a\\u0000b"`` reads as ``'a'``). Each row
  has a stored ``nul`` flag (its JSON holds ``\\u0000``); text comparisons on flagged rows are
  done by the reference matcher, so they stay exact. Equality keeps its index: it compares the
  part before the NUL (a superset) and confirms flagged rows in Python.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final

from tbone.storage import And, Filter, Node, Not, Or, Order

from ._types import ValueType, json_path, value_type

__all__ = ["SQLBuilder", "flatten", "order_terms", "sort_term"]

_NUMBER: Final = "IN ('integer', 'real')"
_ORDERED: Final = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_MAX_NESTING: Final = 24  # parenthesis levels; each costs SQLite's parser a few stack slots
_CHUNK: Final = 64  # terms joined without parentheses
_CONSTANT: Final = frozenset({"0", "1"})
_KINDS: Final[dict[ValueType, frozenset[str]]] = {  # the kinds of ``in`` values SQL compares
    "text": frozenset({"null", "text"}),
    "iso": frozenset({"null", "text"}),
    "int": frozenset({"null", "number"}),
    "num": frozenset({"null", "number"}),
    "bool": frozenset({"null", "bool"}),
    "any": frozenset({"null", "bool", "number", "text"}),
}
_KEY_TYPES: Final = frozenset({"text", "iso", "int", "num"})  # stored as is in the pk column
_encode_list = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_RANK: Final = (
    "CASE {t} WHEN 'integer' THEN 1 WHEN 'real' THEN 1 WHEN 'text' THEN 2 WHEN 'true' THEN 3 "
    "WHEN 'false' THEN 3 WHEN 'object' THEN 5 WHEN 'array' THEN 6 ELSE 0 END"
)


class SQLBuilder:
    """Builds the parameterised parts of one statement, binding values in text order."""

    def __init__(self, keys: Iterator[int], pk: str | None = None) -> None:
        self.params: list[Any] = []
        self.python: dict[int, Node] = {}
        """Nodes evaluated in Python, by the key bound for their ``tbone_match(?, doc)``."""
        self._keys = keys
        self._pk = pk
        """The primary key field: its comparisons read the ``pk`` column (and its index)."""

    def bind(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    # -- WHERE --------------------------------------------------------------------------------

    def where(self, node: Node | None) -> str:
        return "1" if node is None else self._node(node, False, 0)

    def _node(self, node: Node, negated: bool, depth: int) -> str:
        # ``depth`` counts the parentheses around this node: SQLite's parser has a fixed stack
        # (about 100 levels), so a subtree nested deeper is matched by the reference instead.
        if depth > _MAX_NESTING:
            return self._in_python(node)
        if isinstance(node, Filter):
            return self._leaf(node, negated)
        if isinstance(node, And | Or):
            op, empty = (" AND ", "1") if isinstance(node, And) else (" OR ", "0")
            return self._join(op, flatten(node), empty, negated, depth)
        if isinstance(node, Not):
            child, odd = node.child, True
            while isinstance(child, Not):  # two-valued logic: ~~x is x
                child, odd = child.child, not odd
            if not odd:
                return self._node(child, negated, depth)
            return f"NOT {self._node(child, True, depth + 1)}"
        return self._in_python(node)  # Search: we do not declare text_search, but be exact

    def _join(
        self, op: str, children: Sequence[Node], empty: str, negated: bool, depth: int
    ) -> str:
        # Groups of at most _CHUNK terms: SQLite's expression tree for ``a AND b AND ...`` is as
        # deep as the list is long (at most 1000), its parser stack as deep as the parentheses.
        if not children:
            return empty
        if len(children) == 1:
            return self._node(children[0], negated, depth)
        if len(children) <= _CHUNK:
            return _fold(op, [self._node(c, negated, depth + 1) for c in children])
        size = -(-len(children) // _CHUNK)
        groups = [children[i : i + size] for i in range(0, len(children), size)]
        return "(" + op.join(self._join(op, g, empty, negated, depth + 1) for g in groups) + ")"

    def _in_python(self, node: Node) -> str:
        key = next(self._keys)
        self.python[key] = node
        return f"tbone_match({self.bind(key)}, doc)"

    def _leaf(self, f: Filter, negated: bool) -> str:
        if f.lookup in ("ne", "nin"):
            positive = Filter(f.target, "exact" if f.lookup == "ne" else "in", f.value)
            return f"NOT {self._leaf(positive, True)}"
        mark = len(self.params)
        sql = self._filter(f)
        if sql is None:
            del self.params[mark:]
            return self._in_python(f)
        return f"IFNULL({sql}, 0)" if negated and sql not in _CONSTANT else sql

    def _filter(self, f: Filter) -> str | None:
        p = json_path(f.target.path)
        if p is None:
            return None
        x = f"json_extract(doc, '{p}')"
        if f.lookup == "exists":
            if f.target.path == (self._pk,):  # every row has its key: the NOT NULL pk column
                return "1" if f.value else "0"
            return f"{x} IS {'NOT ' if f.value else ''}NULL"
        if f.target.kind == "list":
            return self._list_contains(f, p) if f.lookup == "contains" else None
        vt = value_type(f.target)
        if vt is None:
            return None
        if f.target.path == (self._pk,) and vt in _KEY_TYPES:
            keyed = self._on_key(f, vt)
            if keyed is not None:
                return keyed
        t = f"json_type(doc, '{p}')"
        if f.lookup == "exact":
            return self._exact(f, vt, x, t, f.wire)
        if f.lookup == "in":
            return self._in(f, vt, x, t)
        if f.lookup in _ORDERED:
            return self._ordered(f, vt, x, t)
        return self._text(f, vt, x, t, p)

    def _on_key(self, f: Filter, vt: ValueType) -> str | None:
        """A comparison of the primary key on the stored ``pk`` column: its full value (no NUL
        cut, never NULL) under the primary key index; ``None`` leaves it to the general path."""
        wire = f.wire
        if f.lookup == "exact" or f.lookup in _ORDERED:
            if wire is None or not _fits(vt, wire):
                return None
            op = "=" if f.lookup == "exact" else _ORDERED[f.lookup]
            return f"pk {op} {self.bind(wire)}"
        if f.lookup == "in":
            kept = [w for w in wire if w is not None]  # no stored key is null
            if not all(_fits(vt, w) and _kind(w) in ("text", "number") for w in kept):
                return None  # NUL-holding text, 64-bit overflow: the general path is exact
            return f"pk IN (SELECT value FROM json_each({self.bind(_encode_list(kept))}))"
        return None

    def _exact(self, f: Filter, vt: ValueType, x: str, t: str, wire: Any) -> str | None:
        if isinstance(wire, str) and vt in ("text", "any"):
            return self._text_equal(f, self._eq(vt, x, t, wire.split("\0", 1)[0]), wire)
        return self._eq(vt, x, t, wire)

    def _text_equal(self, f: Filter, superset: str | None, wire: str) -> str | None:
        # ``superset`` compares the part before any NUL, which is what json_extract reads on
        # rows holding a NUL; those rows (flag ``nul``) are confirmed by the reference matcher.
        if superset is None:
            return None
        if "\0" in wire:
            return f"(nul AND {superset} AND {self._in_python(f)})"
        return f"({superset} AND (NOT nul OR {self._in_python(f)}))"

    def _eq(self, vt: ValueType, x: str, t: str, wire: Any) -> str | None:
        """Equality on rows without NUL; ``t`` is the JSON type expression for ``any``."""
        if wire is None:
            return f"{t} = 'null'" if vt == "any" and t == "type" else f"{x} IS NULL"
        if vt != "any":
            return f"{x} = {self._typed(vt, wire)}" if _fits(vt, wire) else None
        if isinstance(wire, bool):
            return f"{t} = '{'true' if wire else 'false'}'"
        if isinstance(wire, int | float) and _fits("num", wire):
            return f"({x} = {self.bind(wire)} AND {t} {_NUMBER})"
        if isinstance(wire, str):
            return f"({x} = {self.bind(wire)} AND {t} = 'text')"
        return None  # lists and objects compare structurally: in Python

    def _typed(self, vt: ValueType, wire: Any) -> str:
        return self.bind(int(wire) if vt == "bool" else wire)

    def _in(self, f: Filter, vt: ValueType, x: str, t: str) -> str | None:
        # Each kind of value is one test, however long the list: numbers and strings are
        # bound as one JSON array read by json_each, so 100,000 values are one parameter.
        if not f.value:
            return "0"
        groups = _group(vt, zip(f.value, f.wire, strict=True))
        parts = [self._in_group(f, vt, x, t, kind, pairs) for kind, pairs in groups.items()]
        return "(" + " OR ".join(parts) + ")"

    def _in_group(
        self, f: Filter, vt: ValueType, x: str, t: str, kind: str, pairs: list[tuple[Any, Any]]
    ) -> str:
        if kind == "null":
            return f"{x} IS NULL"
        if kind == "bool":
            return " OR ".join(
                str(self._eq(vt, x, t, w)) for w in dict.fromkeys(w for _, w in pairs)
            )
        if kind == "other":
            return self._in_python(Filter(f.target, "in", tuple(n for n, _ in pairs)))
        values = _json_list(pairs)
        listed = f"{x} IN (SELECT value FROM json_each({self.bind(values)}))"
        if kind == "text" and vt in ("text", "any"):
            # json_extract cuts a string at a NUL (the listed strings hold none): on rows
            # flagged ``nul``, the full string must be listed too
            full = f"tbone_text(doc, '{f.target.dotted}')"
            listed += (
                f" AND (NOT nul OR {full} IN (SELECT value FROM json_each({self.bind(values)})))"
            )
        if vt != "any":
            return f"({listed})"
        is_kind = _NUMBER if kind == "number" else "= 'text'"
        return f"({t} {is_kind} AND {listed})"

    def _ordered(self, f: Filter, vt: ValueType, x: str, t: str) -> str | None:
        op, wire = _ORDERED[f.lookup], f.wire
        if vt == "text":
            return self._unless_nul(f, f"{x} {op} {self.bind(wire)}") if _fits(vt, wire) else None
        if vt != "any":
            return f"{x} {op} {self._typed(vt, wire)}" if _fits(vt, wire) else None
        if isinstance(wire, bool):
            return f"({t} IN ('true', 'false') AND {x} {op} {self.bind(int(wire))})"
        if isinstance(wire, int | float) and _fits("num", wire):
            return f"({t} {_NUMBER} AND {x} {op} {self.bind(wire)})"
        if isinstance(wire, str):
            return self._unless_nul(f, f"({t} = 'text' AND {x} {op} {self.bind(wire)})")
        return "0"  # lists and objects are never ordered against anything

    def _text(self, f: Filter, vt: ValueType, x: str, t: str, p: str) -> str | None:
        wire = f.wire
        if vt not in ("text", "any"):
            return None
        checks: list[str] = []
        if isinstance(wire, str):
            is_text = f"{t} = 'text' AND " if vt == "any" else ""
            checks.append(f"({is_text}{self._text_op(f.lookup, x, wire)})")
        elif f.lookup != "contains" or vt != "any":
            return None
        if vt == "any" and f.lookup == "contains":
            item = self._eq("any", "value", "type", wire)
            if item is None:
                return None
            checks.append(f"({t} = 'array' AND EXISTS (SELECT 1 FROM json_each(doc, '{p}') "
                          f"WHERE {item}))")  # fmt: skip
        return self._unless_nul(f, "(" + " OR ".join(checks) + ")")

    def _text_op(self, lookup: str, x: str, wire: str) -> str:
        if "\0" in wire:
            return "0"  # only rows flagged ``nul`` hold a NUL; those are checked in Python
        if lookup == "contains":
            return f"instr({x}, {self.bind(wire)}) > 0"
        if lookup == "icontains":
            return f"instr(tbone_lower({x}), {self.bind(wire.lower())}) > 0"
        return f"substr({x}, 1, {self.bind(len(wire))}) = {self.bind(wire)}"

    def _unless_nul(self, f: Filter, sql: str) -> str:
        # ``sql`` is written first: its parameters were bound before the matcher's key.
        return f"(CASE WHEN NOT nul THEN {sql} ELSE {self._in_python(f)} END)"

    def _list_contains(self, f: Filter, p: str) -> str | None:
        vt = value_type(f.target, item=True)
        wire = f.wire
        if vt is None:
            return None
        probe = wire.split("\0", 1)[0] if isinstance(wire, str) else wire
        item = self._eq(vt, "value", "type", probe)
        if item is None:
            return None
        sql = (
            f"(json_type(doc, '{p}') = 'array' AND "
            f"EXISTS (SELECT 1 FROM json_each(doc, '{p}') WHERE {item}))"
        )
        if vt in ("text", "any") and isinstance(wire, str):
            return self._text_equal(f, sql, wire)
        return sql

    # -- ORDER BY -----------------------------------------------------------------------------

    def order_by(self, order: Sequence[Order], pk: str) -> str | None:
        """The ORDER BY list, or ``None`` when some key can only be sorted in Python."""
        terms = order_terms(order, pk)
        return None if terms is None else ", ".join(sort_term(e, d) for e, d in terms)


def order_terms(order: Sequence[Order], pk: str) -> list[tuple[str, bool]] | None:
    """The ORDER BY expressions, each with whether it is descending; ``None`` when some key can
    only be sorted in Python. They bind no parameters."""
    terms: list[tuple[str, bool]] = []
    for o in order:
        exprs = _order_exprs(o, pk)
        if exprs is None:
            return None
        terms.extend((e, o.descending) for e in exprs)
    return terms


def sort_term(expr: str, descending: bool) -> str:
    return f"{expr} DESC" if descending else expr


def _order_exprs(o: Order, pk: str) -> list[str] | None:
    p = json_path(o.target.path)
    vt = value_type(o.target)
    if p is None or vt is None:
        return None
    if o.target.path == (pk,) and vt in _KEY_TYPES:
        return ["pk"]  # the stored key column: full strings, and the primary key index
    x = f"json_extract(doc, '{p}')"
    if vt == "text":
        return [_full_text(o, x)]
    if vt != "any":
        return [x]
    t = f"json_type(doc, '{p}')"
    value = (
        f"CASE {t} WHEN 'text' THEN {_full_text(o, x)} "
        f"WHEN 'object' THEN tbone_json_key(doc -> '{p}') "
        f"WHEN 'array' THEN tbone_json_key(doc -> '{p}') ELSE {x} END"
    )
    return [_RANK.format(t=t), value]


def _full_text(o: Order, x: str) -> str:
    return f"CASE WHEN nul THEN tbone_text(doc, '{o.target.dotted}') ELSE {x} END"


def _fits(vt: ValueType, wire: Any) -> bool:
    """Whether ``wire`` is a value SQL compares exactly for a ``vt`` path."""
    if vt in ("text", "iso"):
        return isinstance(wire, str)
    if vt == "bool":
        return isinstance(wire, bool)
    if isinstance(wire, bool) or not isinstance(wire, int | float):
        return False
    # SQLite integers are 64-bit; larger ones would be rounded, so compare those in Python.
    return not isinstance(wire, int) or _INT64_MIN <= wire <= _INT64_MAX


def _fold(op: str, parts: list[str]) -> str:
    """``parts`` joined by ``op`` without the terms that change nothing (``1`` in an AND, ``0``
    in an OR; a key's ``exists`` is one), so that ``pk < ? OR 0`` reaches the planner as
    ``pk < ?``, a range on the key's index. (A ``0`` in an AND cannot take the other terms
    with it: their parameters are bound.)"""
    neutral = "1" if op == " AND " else "0"
    kept = [p for p in parts if p != neutral]
    if not kept:
        return neutral
    return kept[0] if len(kept) == 1 else "(" + op.join(kept) + ")"


def flatten(node: And | Or) -> list[Node]:
    """The children of ``node``, with nested nodes of the same kind spliced in (no recursion:
    ``Q & Q & Q ...`` nests one level per ``&``)."""
    out: list[Node] = []
    stack: list[Node] = list(reversed(node.children))
    while stack:
        child = stack.pop()
        if type(child) is type(node):
            stack.extend(reversed(child.children))
        else:
            out.append(child)
    return out


def _group(vt: ValueType, pairs: Iterable[tuple[Any, Any]]) -> dict[str, list[tuple[Any, Any]]]:
    """(native, wire) pairs of an ``in`` list by kind; ``other`` are matched in Python."""
    allowed = _KINDS[vt]
    groups: dict[str, list[tuple[Any, Any]]] = {}
    for native, wire in pairs:
        kind = _kind(wire)
        groups.setdefault(kind if kind in allowed else "other", []).append((native, wire))
    return groups


def _kind(wire: Any) -> str:
    if wire is None:
        return "null"
    if isinstance(wire, bool):
        return "bool"
    if isinstance(wire, int | float):
        finite = wire == wire and wire not in (float("inf"), float("-inf"))
        return "number" if finite and _fits("num", wire) else "other"
    if isinstance(wire, str):
        return "other" if "\0" in wire else "text"
    return "other"  # lists and objects compare structurally


def _json_list(pairs: list[tuple[Any, Any]]) -> str:
    return _encode_list([w for _, w in pairs])
