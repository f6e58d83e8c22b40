"""Secondary index entries: which Redis members a document's indexed values become.

Every top-level scalar field marked ``index=True`` or ``unique=True`` is indexed three ways,
under ``<prefix>{<collection>}:ix:<field>:`` (one hash slot with the documents):

- ``eq:<value key>`` set of primary keys, one set per value, for ``exact`` and ``in``. The value
  key is a type-tagged canonical spelling of the *native* value (as the field's converter loads
  it), such that values the reference matcher calls equal share one key: ``1``, ``1.0`` and
  ``Decimal("1.00")`` are ``n1``; ``True`` is ``b1``; ``"1"`` is ``s1``; null (or missing) is
  ``z``. Values with no canonical spelling (objects, lists, times, unknown types) all go to
  ``eq:x``, which every equality lookup also reads.
- ``num`` sorted set, score = the number (as a float), for ``lt lte gt gte`` with a number.
- ``lex`` sorted set of ``<UTF-8 text>\\0<pk>`` at score 0, for ranges and ``startswith`` on
  text. UTF-8 byte order is code point order, which is how Python compares ``str``.

The index only narrows the candidates: the planner widens every bound (a float score may round),
and the reference matcher always decides on the fetched documents. So an index never changes an
answer, even when a value is spelt two ways; at worst it reads a few documents too many.

A document's entries are kept as one JSON array in the ``ivals`` hash (pk -> entries), so the
write scripts can remove exactly what they added, atomically with the write (``_scripts``).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any
from uuid import UUID

import attrs

from tbone.data import fields_of
from tbone.storage import CollectionSpec
from tbone.storage.path import Target, resolve

__all__ = [
    "FORMAT",
    "IndexedField",
    "Indexes",
    "eq_key",
    "lex_text",
    "number",
    "score",
]

FORMAT = 1
"""Bumped whenever the entries' layout changes, so ``prepare`` rebuilds old indexes."""

_MAX_KEY = 200  # longer value keys are hashed: a set's name need not hold a long text twice
_entries_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def number(value: Any) -> int | float | Decimal | None:
    """``value`` if the matcher ranks it a number (``bool`` is not), else ``None``."""
    v = _plain(value)
    if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
        return None
    return v


def eq_key(value: Any) -> str:
    """The set a native value belongs to; equal values (as ``same`` says) share one key."""
    v = _plain(value)
    if v is None:
        return "z"
    if isinstance(v, bool):
        return "b1" if v else "b0"
    if isinstance(v, str):
        return _bounded("s" + v)
    n = number(v)
    if n is not None:
        return "n" + _exact_number(n)
    return _bounded(_other_key(v))


def _exact_number(n: int | float | Decimal) -> str:
    if type(n) is int:
        return str(n)
    if not (n.is_finite() if isinstance(n, Decimal) else math.isfinite(n)):
        return "nan" if n != n else ("inf" if n > 0 else "-inf")
    exact = Fraction(n)  # exact for int, float and Decimal: equal numbers, equal fractions
    top, bottom = exact.numerator, exact.denominator
    return str(top) if bottom == 1 else f"{top}/{bottom}"


def _other_key(v: Any) -> str:
    if isinstance(v, dt.datetime):
        if v.utcoffset() is None:
            return "T" + v.isoformat()
        return "t" + v.astimezone(dt.UTC).replace(tzinfo=None).isoformat()
    if isinstance(v, dt.date):
        return "d" + v.isoformat()
    if isinstance(v, UUID):
        return "u" + v.hex
    return "x"


def _bounded(key: str) -> str:
    try:
        key.encode()
    except UnicodeEncodeError:  # a lone surrogate: redis-py could not send it as it is
        return "h" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    if len(key) > _MAX_KEY:
        return "h" + hashlib.sha256(key.encode()).hexdigest()
    return key


def score(n: int | float | Decimal) -> str | None:
    """The score of a number: a float, rounded to nearest (monotonic); None for NaN."""
    try:
        f = float(n)
    except OverflowError:  # an int beyond the float range
        f = math.inf if n > 0 else -math.inf
    if f != f:
        return None
    return "+inf" if f == math.inf else "-inf" if f == -math.inf else repr(f)


def lex_text(value: Any) -> bytes | None:
    """The UTF-8 bytes of a text value, or None when it is not text (or not encodable)."""
    v = _plain(value)
    if not isinstance(v, str):
        return None
    try:
        return v.encode()
    except UnicodeEncodeError:
        return None


@attrs.frozen
class IndexedField:
    name: str
    target: Target

    def native(self, doc: dict[str, Any]) -> Any:
        raw = doc.get(self.name)
        return None if raw is None else self.target.converter.load(raw)

    def entries(self, doc: dict[str, Any], pk: str, out: list[str]) -> None:
        """Append this field's ``kind, key, argument`` triples for ``doc`` to ``out``."""
        try:
            found = self._entries(self.native(doc), pk)
        except Exception:  # not loadable, or an odd number: only the catch-all set holds it
            found = ["s", f"ix:{self.name}:eq:x", ""]
        out += found

    def _entries(self, value: Any, pk: str) -> list[str]:
        base = f"ix:{self.name}:"
        found = ["s", base + "eq:" + eq_key(value), ""]
        n = number(value)
        if n is not None and (s := score(n)) is not None:
            found += ["z", base + "num", s]
        text = lex_text(value)
        if text is not None:
            found += ["l", base + "lex", text.decode() + "\0" + pk]
        return found


@attrs.frozen
class Indexes:
    """The indexed fields of one collection, and how to compute a document's entries."""

    fields: tuple[IndexedField, ...]
    marker: str

    @classmethod
    def of(cls, spec: CollectionSpec) -> Indexes:
        model_fields = fields_of(spec.model)
        names = [n for n in dict.fromkeys((*spec.indexes, *spec.unique)) if n in model_fields]
        found = []
        for name in names:
            target = resolve(spec.model, [name])
            if name != spec.pk and target.kind in ("scalar", "any"):
                found.append(IndexedField(name, target))
        marker = json.dumps([FORMAT, sorted(f.name for f in found)])
        return cls(tuple(found), marker)

    def by_name(self, name: str) -> IndexedField | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def entries(self, doc: dict[str, Any], pk: str) -> str:
        """The JSON array of ``doc``'s entries ("" when nothing is indexed)."""
        if not self.fields:
            return ""
        out: list[str] = []
        for f in self.fields:
            f.entries(doc, pk, out)
        return _entries_json(out)

    def all_entries(self, docs: Sequence[dict[str, Any]], pks: Sequence[str]) -> list[str]:
        return [self.entries(doc, pk) for doc, pk in zip(docs, pks, strict=True)]
