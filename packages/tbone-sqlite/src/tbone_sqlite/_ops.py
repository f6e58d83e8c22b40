"""Update operators as one SQLite ``UPDATE``: ``json_set`` for the new values, and every limit
(the type a path holds, numeric bounds, list lengths, 64-bit integers) in its ``WHERE`` clause.

The operators' paths never overlap (``compile_ops`` refuses that), so every new value is computed
from the stored ``doc`` and ``json_set`` writes them all (nested calls of 50 pairs: SQLite
functions take at most 127 arguments; updates past 400 conditions go by compare-and-swap).

Floats are written as 17 significant digits (``%!.17g``), which read back as the same double:
SQLite's own rendering of a REAL keeps 15 and would round ``0.1 + 0.2``.

``add_to_set`` and ``pull`` rebuild the list with ``json_group_array`` over ``json_each``,
comparing items by JSON type and JSON text (both sides written by one encoder; ``atom`` alone
would cut a text at an escaped NUL). Items other than ``str``/``int``/``float``/``bool`` are not
compiled: the store applies those by read + compare-and-swap.
"""

from __future__ import annotations

import json
from typing import Any, Final

import attrs

from tbone.storage.ops import Op, UpdateOps

from ._limits import check_integers
from ._types import json_path

__all__ = ["CompiledUpdate", "compile_update"]

_MAX_FLOAT: Final = "1.7976931348623157e308"
_PAIRS_PER_CALL: Final = 50  # SQLite functions take at most 127 arguments by default
_MAX_CONDITIONS: Final = 400  # an AND chain as deep as SQLite's expression depth limit allows
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


@attrs.frozen
class CompiledUpdate:
    """``SET doc = <doc>`` and ``WHERE <conditions>``, with their parameters."""

    doc: str
    pair_params: list[Any]
    conditions: list[str]
    condition_params: list[Any]


def compile_update(ops: UpdateOps) -> CompiledUpdate | None:
    """The SQL of ``ops``, or ``None`` when one of them has no single-statement form here."""
    out = CompiledUpdate("doc", [], [], [])
    pairs: list[str] = []
    for op in ops.ops:
        path = json_path(op.path)
        if path is None or (op.kind in ("add_to_set", "pull") and not op.plain_items):
            return None
        if op.kind == "set":
            pairs.append(f"'{path}', json(?)")
            out.pair_params.append(_value(op, op.value))
        elif op.kind == "inc":
            pairs.append(_inc(op, path, out))
        elif op.kind == "push":
            pairs += _push(op, path, out)
        elif op.kind == "add_to_set":
            pairs.append(_add_to_set(op, path, out))
        else:
            pairs.append(_pull(op, path, out))
    if len(out.conditions) > _MAX_CONDITIONS:
        return None
    doc = "doc"
    for start in range(0, len(pairs), _PAIRS_PER_CALL):
        doc = f"json_set({doc}, {', '.join(pairs[start : start + _PAIRS_PER_CALL])})"
    return attrs.evolve(out, doc=doc)


def _inc(op: Op, path: str, out: CompiledUpdate) -> str:
    current = f"json_extract(doc, '{path}')"
    result = f"({current} + ?)"
    if op.integer:
        out.conditions.extend(
            [f"json_type(doc, '{path}') = 'integer'", f"typeof{result} = 'integer'"]
        )
        out.condition_params.append(op.value)
    else:
        out.conditions.extend(
            [
                f"json_type(doc, '{path}') IN ('integer', 'real')",
                f"abs{result} <= {_MAX_FLOAT}",
            ]
        )
        out.condition_params.append(op.value)
    for name, bound in op.bounds():
        out.conditions.append(f"{result} {_SQL_BOUND[name]} ?")
        out.condition_params.extend([op.value, bound])
    out.pair_params.append(op.value)
    if op.integer:
        return f"'{path}', {result}"
    return f"'{path}', json(printf('%!.17g', {result}))"


_SQL_BOUND: Final = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}


def _push(op: Op, path: str, out: CompiledUpdate) -> list[str]:
    out.conditions.append(f"json_type(doc, '{path}') = 'array'")
    if op.max_length is not None:
        out.conditions.append(f"json_array_length(doc, '{path}') + ? <= ?")
        out.condition_params.extend([len(op.value), op.max_length])
    out.pair_params.extend([_value(op, item) for item in op.value])
    return [f"'{path}[#]', json(?)"] * len(op.value)


# An item ``i`` of the bound JSON array of items equals an element ``e`` of the stored list.
_SAME: Final = "i.type = e.type AND (? -> i.fullkey) = (doc -> e.fullkey)"


def _fresh(path: str) -> str:
    """Items of the bound array that neither the list nor an earlier item holds (5 params)."""
    return (
        f"FROM json_each(?) AS i WHERE NOT EXISTS (SELECT 1 FROM json_each(doc, '{path}') AS e "
        f"WHERE {_SAME}) AND NOT EXISTS (SELECT 1 FROM json_each(?) AS j "
        "WHERE j.key < i.key AND j.type = i.type AND j.atom IS i.atom "
        "AND (? -> j.fullkey) = (? -> i.fullkey))"
    )


def _add_to_set(op: Op, path: str, out: CompiledUpdate) -> str:
    items = _value(op, list(op.value))
    out.conditions.append(f"json_type(doc, '{path}') = 'array'")
    if op.max_length is not None:
        out.conditions.append(
            f"json_array_length(doc, '{path}') + (SELECT count(*) {_fresh(path)}) <= ?"
        )
        out.condition_params.extend([items] * 5 + [op.max_length])
    out.pair_params.extend([items] * 6)
    return (
        f"'{path}', (SELECT json_group_array(json(x)) FROM ("
        f"SELECT doc -> e.fullkey AS x, 0 AS g, e.key AS k FROM json_each(doc, '{path}') AS e "
        f"UNION ALL SELECT ? -> i.fullkey, 1, i.key {_fresh(path)} ORDER BY g, k))"
    )


def _pull(op: Op, path: str, out: CompiledUpdate) -> str:
    items = _value(op, list(op.value))
    kept = (
        f"FROM json_each(doc, '{path}') AS e WHERE NOT EXISTS "
        f"(SELECT 1 FROM json_each(?) AS i WHERE {_SAME})"
    )
    out.conditions.append(f"json_type(doc, '{path}') = 'array'")
    if op.min_length is not None:
        out.conditions.append(f"(SELECT count(*) {kept}) >= ?")
        out.condition_params.extend([items, items, op.min_length])
    out.pair_params.extend([items, items])
    return f"'{path}', (SELECT json_group_array(json(doc -> e.fullkey)) {kept})"


def _value(op: Op, value: Any) -> str:
    text = _encode(value)
    check_integers({op.path[-1]: value}, text, list(op.path[:-1]))
    return text
