"""Filters from the outside world: query-string pairs (HTTP) and JSON objects (WebSocket).

Both give the same typed tree as keyword lookups. Query-string values are text, converted by the
field's type: ``year__gte=1960`` gives the int 1960, ``in_print=false`` a bool, ``author__in=a,b``
a list, ``isbn__exists=true`` a bool; text is never interpreted as an operator or as JSON.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from tbone.data import Model
from tbone.errors import QueryError

from .lookup import LOOKUPS, load_value
from .path import Target, split_key
from .query import Filter, Node, conjoin, resolve_key

__all__ = ["Allowed", "parse_filter", "parse_params"]

Allowed = Mapping[str, Collection[str]]
"""Field path (``"author"``, ``"author.name"``) -> the lookups allowed on it."""

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def parse_params(
    model: type[Model],
    pairs: Iterable[tuple[str, str]] | Mapping[str, str],
    allowed: Allowed | None = None,
) -> Node | None:
    """Compile query-string pairs (all ANDed) into a typed filter.

    >>> from tbone import Model
    >>> class Book(Model):
    ...     year: int
    >>> parse_params(Book, [("year__gte", "1960")]).value
    1960

    With ``allowed``, any other field or lookup is a :class:`QueryError` listing what is allowed.
    """
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    return conjoin([_param(model, key, text, allowed) for key, text in items])


def parse_filter(
    model: type[Model], obj: Mapping[str, Any], allowed: Allowed | None = None
) -> Node | None:
    """Compile a JSON filter object such as ``{"author": "Herbert", "year__gte": 1960}``.

    Keys are lookups as in the query string (ANDed); values are JSON values of the field's type.
    """
    if not isinstance(obj, Mapping):
        raise QueryError.single(["filter"], "a filter must be a JSON object", "filter_type")
    nodes = []
    for key, value in obj.items():
        target, lookup = _target(model, str(key), allowed)
        nodes.append(Filter(target, lookup, load_value(target, lookup, value, [str(key)])))
    return conjoin(nodes)


def _param(model: type[Model], key: str, text: str, allowed: Allowed | None) -> Filter:
    target, lookup = _target(model, key, allowed)
    return Filter(
        target, lookup, load_value(target, lookup, _from_text(target, lookup, text, key), [key])
    )


def _target(model: type[Model], key: str, allowed: Allowed | None) -> tuple[Target, str]:
    if allowed is not None:
        parts, lookup = split_key(key, LOOKUPS)
        _check_allowed(".".join(parts), lookup or "exact", key, allowed)
    return resolve_key(model, key)


def _check_allowed(path: str, lookup: str, key: str, allowed: Allowed) -> None:
    if path not in allowed:
        fields = ", ".join(sorted(allowed)) or "none"
        raise QueryError.single(
            [key],
            f"filtering on '{path}' is not allowed; filterable fields: {fields}",
            "filter_not_allowed",
        )
    if lookup not in allowed[path]:
        ops = ", ".join(sorted(allowed[path]))
        raise QueryError.single(
            [key],
            f"lookup '{lookup}' is not allowed on '{path}'; allowed: {ops}",
            "lookup_not_allowed",
        )


def _from_text(target: Target, lookup: str, text: str, key: str) -> Any:
    if lookup == "exists":
        return _bool(text, key)
    if lookup in ("in", "nin"):
        return [_typed(_python_type(target, lookup), part, key) for part in text.split(",")]
    return _typed(_python_type(target, lookup), text, key)


def _python_type(target: Target, lookup: str) -> Any:
    if lookup in ("contains", "icontains", "startswith"):
        return target.item.python_type if target.kind == "list" else str
    return target.converter.python_type


def _typed(tp: Any, text: str, key: str) -> Any:
    if tp is bool:
        return _bool(text, key)
    if tp is int or tp is float:
        try:
            return tp(text)
        except ValueError:
            what = "an integer" if tp is int else "a number"
            raise QueryError.single(
                [key], f"expected {what}, got {text!r}", "number_parsing"
            ) from None
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum(tp, text)
    return text


def _enum(tp: type[enum.Enum], text: str) -> Any:
    for member in tp:
        if str(member.value) == text:
            return member.value
    return text


def _bool(text: str, key: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise QueryError.single([key], f"expected true or false, got {text!r}", "bool_parsing")
