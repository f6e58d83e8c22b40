"""How a query path's stored JSON values compare in SQLite, decided once per target.

``json_extract`` gives SQL values whose comparisons reproduce the reference semantics
(:mod:`tbone.storage.matcher`) only for some field types:

- ``text`` (``str``): UTF-8 byte order is code point order, so ``=``/``<`` agree with Python;
  but ``json_extract`` cuts a string at an escaped NUL, so text predicates are guarded (below).
- ``iso`` (``date``, ``UUID``): fixed-width strings whose order is the native order; no NUL.
- ``int``, ``num`` (``float``), ``bool`` (stored ``true``/``false`` read back as 1/0, and a
  ``bool`` field holds nothing else): native SQL comparison.
- ``any`` (untyped ``Any`` data, enums, literals, unions of JSON types): values of mixed JSON
  types, so every comparison also checks ``json_type`` and ordering ranks by type first.
- ``None``: everything else (``datetime`` with offsets, ``Decimal`` strings, ``time``, models,
  plugin types): compared in Python by the reference matcher, from SQL (see ``_functions``).
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
import uuid
from typing import Final, Literal

from tbone.data import Converter
from tbone.storage import Target

__all__ = ["IDENT", "ValueType", "json_path", "value_type"]

ValueType = Literal["text", "iso", "int", "num", "bool", "any"]

IDENT: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
"""Names that may appear in SQL text (quoted): model field names and plain dict keys."""

_BY_PYTHON_TYPE: Final[dict[object, ValueType]] = {
    str: "text",
    int: "int",
    float: "num",
    bool: "bool",
    dt.date: "iso",
    uuid.UUID: "iso",
}


def value_type(target: Target, *, item: bool = False) -> ValueType | None:
    """The SQL comparison class of the values at ``target`` (of its items when ``item``)."""
    if target.kind == "any" and not item:
        return "any"
    conv = target.item if item else target.converter
    if item and target.kind != "list":
        return None
    if not item and target.kind != "scalar":
        return None
    return _of_converter(conv)


def _of_converter(conv: Converter) -> ValueType | None:
    pt = conv.python_type
    if pt is None:
        # Literals, unions of plain types and Any: stored values are the native values.
        return "any" if conv.dump is None and conv.model is None else None
    if isinstance(pt, type) and issubclass(pt, enum.Enum):
        return "any"  # compared by member value (the matcher's ``_plain``), which is stored
    return _BY_PYTHON_TYPE.get(pt)


@functools.lru_cache(maxsize=1024)  # pure, and asked for every filter and ordering key
def json_path(path: tuple[str, ...]) -> str | None:
    """``('author', 'name')`` -> ``$."author"."name"``; ``None`` if a part is not a plain name.

    Only such paths are written into SQL text (they must be literal for expression indexes to
    apply); a filter on any other path is evaluated in Python instead.
    """
    if not all(IDENT.match(p) for p in path):
        return None
    return "$" + "".join(f'."{p}"' for p in path)
