"""Lookups: which ones exist, which paths each applies to, and how their values are typed.

Every value is converted by the field's type before a store sees it, so a store never receives
an operator hidden in data: ``{"$ne": 1}`` given for a ``str`` field fails validation, and given
for an ``Any`` field it is a plain dict compared for equality.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from tbone.errors import QueryError

from .path import Target

__all__ = ["LOOKUPS", "Values", "load_value"]

LOOKUPS: Final[tuple[str, ...]] = (
    "exact",
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "in",
    "nin",
    "contains",
    "icontains",
    "startswith",
    "exists",
)
"""Every lookup, in documentation order; ``exact`` is the default when none is given."""

_ORDERED = frozenset({"lt", "lte", "gt", "gte"})


class Values(tuple[Any, ...]):
    """The typed values of an ``in`` / ``nin`` lookup: a tuple that also remembers a set
    built from them (by the matcher, once), so that testing a document costs one lookup
    rather than one comparison per value."""

    lookup_cache: Any = None


_TEXT = frozenset({"icontains", "startswith"})


def load_value(target: Target, lookup: str, value: Any, loc: Sequence[str | int]) -> Any:
    """Type ``value`` for ``lookup`` on ``target``; raise :class:`QueryError` when it cannot."""
    if lookup not in LOOKUPS:
        raise QueryError.single(
            loc, f"unknown lookup '{lookup}'; allowed: {', '.join(LOOKUPS)}", "unknown_lookup"
        )
    if lookup == "exists":
        return _load_bool(value, loc)
    if lookup in ("in", "nin"):
        return _load_many(target, value, loc)
    if lookup == "contains":
        return _load_contains(target, value, loc)
    if lookup in _TEXT:
        _require_text(target, lookup, loc)
        return _load_str(value, loc)
    if lookup in _ORDERED:
        _require_ordered(target, lookup, loc)
        if value is None:
            raise QueryError.single(loc, f"'{lookup}' needs a value, not null", "none_value")
    return target.load(value, loc)


def _load_bool(value: Any, loc: Sequence[str | int]) -> bool:
    if value is True or value is False:
        return bool(value)
    raise QueryError.single(loc, "expected true or false", "bool_type")


def _load_str(value: Any, loc: Sequence[str | int]) -> str:
    if isinstance(value, str):
        return str(value)
    raise QueryError.single(loc, "expected a string", "string_type")


def _load_many(target: Target, value: Any, loc: Sequence[str | int]) -> tuple[Any, ...]:
    if not isinstance(value, list | tuple | set | frozenset):
        raise QueryError.single(loc, "expected a list of values", "list_type")
    return Values(target.load(v, [*loc, i]) for i, v in enumerate(value))


def _load_contains(target: Target, value: Any, loc: Sequence[str | int]) -> Any:
    if target.kind == "list":
        return target.load_item(value, loc)
    if target.kind == "any":
        return value
    _require_text(target, "contains", loc)
    return _load_str(value, loc)


def _is_text(target: Target) -> bool:
    return target.kind == "any" or (target.kind == "scalar" and target.converter.python_type is str)


def _require_text(target: Target, lookup: str, loc: Sequence[str | int]) -> None:
    if not _is_text(target):
        raise QueryError.single(
            loc,
            f"'{lookup}' applies to text fields (or lists, for contains); "
            f"'{target.dotted}' is not text",
            "lookup_not_allowed",
        )


def _require_ordered(target: Target, lookup: str, loc: Sequence[str | int]) -> None:
    if target.kind not in ("scalar", "any"):
        raise QueryError.single(
            loc,
            f"'{lookup}' compares single values; '{target.dotted}' holds a {target.kind}",
            "lookup_not_allowed",
        )
