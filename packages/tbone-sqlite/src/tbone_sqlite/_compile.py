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

from collections.abc import Iterator, Sequence
from typing import Any, Final

from tbone.storage import And, Filter, Node, Not, Or, Order

from ._types import ValueType, json_path, value_type

__all__ = ["SQLBuilder"]

_NUMBER: Final = "IN ('integer', 'real')"
_ORDERED: Final = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_RANK: Final = (
    "CASE {t} WHEN 'integer' THEN 1 WHEN 'real' THEN 1 WHEN 'text' THEN 2 WHEN 'true' THEN 3 "
    "WHEN 'false' THEN 3 WHEN 'object' THEN 5 WHEN 'array' THEN 6 ELSE 0 END"
)


class SQLBuilder:
    """Builds the parameterised parts of one statement, binding values in text order."""

    def __init__(self, keys: Iterator[int]) -> None:
        self.params: list[Any] = []
        self.python: dict[int, Node] = {}
        """Nodes evaluated in Python, by the key bound for their ``tbone_match(?, doc)``."""
        self._keys = keys

    def bind(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    # -- WHERE --------------------------------------------------------------------------------

    def where(self, node: Node | None) -> str:
        return "1" if node is None else self._node(node, False)

    def _node(self, node: Node, negated: bool) -> str:
        if isinstance(node, Filter):
            return self._leaf(node, negated)
        if isinstance(node, And):
            return self._join(" AND ", node.children, "1", negated)
        if isinstance(node, Or):
            return self._join(" OR ", node.children, "0", negated)
        if isinstance(node, Not):
            return f"NOT {self._node(node.child, True)}"
        return self._in_python(node)  # Search: we do not declare text_search, but be exact

    def _join(self, op: str, children: Sequence[Node], empty: str, negated: bool) -> str:
        if not children:
            return empty
        return "(" + op.join(self._node(c, negated) for c in children) + ")"

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
        return f"IFNULL({sql}, 0)" if negated else sql

    def _filter(self, f: Filter) -> str | None:
        p = json_path(f.target.path)
        if p is None:
            return None
        x = f"json_extract(doc, '{p}')"
        if f.lookup == "exists":
            return f"{x} IS {'NOT ' if f.value else ''}NULL"
        if f.target.kind == "list":
            return self._list_contains(f, p) if f.lookup == "contains" else None
        vt = value_type(f.target)
        if vt is None:
            return None
        t = f"json_type(doc, '{p}')"
        if f.lookup == "exact":
            return self._exact(f, vt, x, t, f.wire)
        if f.lookup == "in":
            return self._in(f, vt, x, t)
        if f.lookup in _ORDERED:
            return self._ordered(f, vt, x, t)
        return self._text(f, vt, x, t, p)

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
        if not f.value:
            return "0"
        parts = []
        for native, wire in zip(f.value, f.wire, strict=True):
            sql = self._exact(Filter(f.target, "exact", native), vt, x, t, wire)
            if sql is None:
                return None
            parts.append(sql)
        return "(" + " OR ".join(parts) + ")"

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
        parts: list[str] = []
        for o in order:
            exprs = _order_exprs(o, pk)
            if exprs is None:
                return None
            parts.extend(f"{e} DESC" if o.descending else e for e in exprs)
        return ", ".join(parts)


def _order_exprs(o: Order, pk: str) -> list[str] | None:
    p = json_path(o.target.path)
    vt = value_type(o.target)
    if p is None or vt is None:
        return None
    if o.target.path == (pk,) and vt in ("text", "iso", "int", "num"):
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
