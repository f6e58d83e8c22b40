"""Query planning: which index probes can narrow a query's candidates (see ``_index``).

Only the conjuncts of a top-level AND are used (a lone filter is an AND of one): a primary key
``exact`` / ``in``, ``exact`` / ``in`` on an indexed field, ``lt lte gt gte`` with a number or a
text, and ``startswith``. Every probe finds a superset of the documents its conjunct matches;
the find script measures each probe's size, reads the smallest, and the reference matcher then
decides on the whole query. OR, NOT and everything else leave the query to a full scan.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs

from tbone.storage import CollectionSpec
from tbone.storage.path import Target
from tbone.storage.query import And, Filter, Node

from ._index import Indexes, eq_key, lex_text, number, score

__all__ = ["Planner"]

Arg = str | bytes
_PK_TYPES = (str, int, UUID)  # types whose wire form is one canonical spelling per value
_LOWER = frozenset({"gt", "gte"})
_EXACT = 2**53
_MAX_SETS = 1000  # sets one SUNION reads: Lua's unpack() has a stack limit (~8,000)
_UPPER = frozenset({"lt", "lte"})


def _conjuncts(node: Node) -> Iterator[Filter]:
    if isinstance(node, And):
        for child in node.children:
            yield from _conjuncts(child)
    elif isinstance(node, Filter) and len(node.path) == 1:
        yield node


@attrs.define
class _Bounds:
    """The tightest bounds met so far on one field, for one sorted set."""

    low: Any = None
    high: Any = None

    def lower(self, value: Any) -> None:
        self.low = value if self.low is None else max(self.low, value)

    def upper(self, value: Any) -> None:
        self.high = value if self.high is None else min(self.high, value)


@attrs.frozen
class Planner:
    """Turns a query's filter into the find script's probes, for one collection."""

    spec: CollectionSpec
    indexes: Indexes
    pk_of: Callable[[Any], str]  # the store's encoder: wire primary key -> ``docs`` field

    def probes(self, where: Node | None) -> list[Arg]:
        """Flat script arguments: ``kind, n, arg1..argn`` per probe; empty when none applies."""
        if where is None:
            return []
        out: list[Arg] = []
        numbers: dict[str, _Bounds] = {}
        texts: dict[str, _Bounds] = {}
        for f in _conjuncts(where):
            self._probe(f, out, numbers, texts)
        for name, b in numbers.items():
            low = "-inf" if b.low is None else _bound_text(b.low, b.low[1])
            high = "+inf" if b.high is None else _bound_text(b.high, not b.high[1])
            out += ["num", "3", f"ix:{name}:num", low, high]
        for name, b in texts.items():
            start = b"-" if b.low is None else b"[" + b.low
            stop = b"+" if b.high is None else b"[" + b.high
            out += ["lex", "3", f"ix:{name}:lex", start, stop]
        return out

    def _probe(
        self, f: Filter, out: list[Arg], numbers: dict[str, _Bounds], texts: dict[str, _Bounds]
    ) -> None:
        name = f.path[0]
        if name == self.spec.pk:
            self._pk_probe(f, out)
            return
        field = self.indexes.by_name(name)
        if field is None:
            return
        if f.lookup in ("exact", "in"):
            values = f.value if f.lookup == "in" else (f.value,)
            keys = sorted({"x", *(eq_key(v) for v in values)})
            if len(keys) <= _MAX_SETS:
                out += ["eq", str(len(keys)), *(f"ix:{name}:eq:{k}" for k in keys)]
        elif f.lookup in _LOWER or f.lookup in _UPPER:
            _range(f, name, numbers, texts)
        elif f.lookup == "startswith" and (text := lex_text(f.value)) is not None:
            b = texts.setdefault(name, _Bounds())
            b.lower(text)
            b.upper(text + b"\xff")  # no UTF-8 byte is 0xff: above every longer text

    def _pk_probe(self, f: Filter, out: list[Arg]) -> None:
        target = f.target
        if f.lookup not in ("exact", "in") or target.kind != "scalar":
            return
        if target.converter.python_type not in _PK_TYPES:
            return
        values = f.value if f.lookup == "in" else (f.value,)
        if any(v is None for v in values):
            return
        pks = sorted({self.pk_of(target.dump(v)) for v in values})
        out += ["pk", str(len(pks)), *pks]


def _range(f: Filter, name: str, numbers: dict[str, _Bounds], texts: dict[str, _Bounds]) -> None:
    """Tighten the bounds of ``name`` by a range filter, widened wherever a score may round."""
    lower = f.lookup in _LOWER
    n = number(f.value)
    if n is not None:
        s = score(n)  # float(x) rounds monotonically: x < y implies score(x) <= score(y)
        if s is not None:
            strict = f.lookup in ("gt", "lt") and _exact_scores(f.target, n)
            b = numbers.setdefault(name, _Bounds())
            if lower:
                b.lower((float(s), strict))  # (value, exclusive): the larger is the tighter
            else:
                b.upper((float(s), not strict))  # (value, inclusive): the smaller is the tighter
        return
    text = lex_text(f.value)
    if text is None:
        return
    if lower:  # every member <text>\0<pk> whose text is >= the bound sorts at or above it
        texts.setdefault(name, _Bounds()).lower(text)
    elif b"\0" not in text:  # (after a NUL in the bound, a pk could sort past the \xff)
        # members are <text>\0<pk>: all below <bound> for text < bound, below <bound>\0\xff
        # (no UTF-8 byte is 0xff) for text <= bound
        texts.setdefault(name, _Bounds()).upper(text if f.lookup == "lt" else text + b"\0\xff")


def _exact_scores(target: Target, n: float | Decimal) -> bool:
    """Whether no stored value other than ``n`` itself can have ``n``'s score.

    True for a bound below 2**53 in magnitude on a field holding ints and floats only (typed so,
    or untyped JSON): every int that rounds onto such a float is that float.
    """
    if isinstance(n, Decimal) or abs(n) >= _EXACT:
        return False
    return target.kind == "any" or target.converter.python_type in (int, float)


def _bound_text(bound: tuple[float, bool], exclusive: bool) -> str:
    value = _score_text(bound[0])
    return "(" + value if exclusive else value


def _score_text(f: float) -> str:
    if math.isinf(f):
        return "+inf" if f > 0 else "-inf"
    return repr(f)
