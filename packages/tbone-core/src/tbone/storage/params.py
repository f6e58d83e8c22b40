"""Filters from the outside world: query-string pairs (HTTP) and JSON objects (WebSocket).

Both give the same typed tree as keyword lookups. Query-string values are text, converted by the
field's type: ``year__gte=1960`` gives the int 1960, ``in_print=false`` a bool, ``author__in=a,b``
a list, ``isbn__exists=true`` a bool; text is never interpreted as an operator or as JSON.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import attrs

from tbone.data import Model
from tbone.errors import QueryError

from .lookup import LOOKUPS, load_value
from .path import Target, split_key
from .query import Filter, Node, conjoin, resolve_key

__all__ = ["Allowed", "QueryLimits", "parse_filter", "parse_params"]

Allowed = Mapping[str, Collection[str]]
"""Field path (``"author"``, ``"author.name"``) -> the lookups allowed on it."""

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
# ASCII digits only: int() would also take "+5", " 1960", "1_0" and other scripts' digits, each
# of them another spelling of a real key or value.
_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_MAX_DIGITS = 400  # far past any stored number; int() of longer text is slow


@attrs.frozen(kw_only=True)
class QueryLimits:
    """Bounds on what one client query may ask, so that the work of a request or of a
    subscription stays small: ``Resource.query_limits`` or ``API(query_limits=...)``.

    Over a bound, the request is a 400 naming the limit.
    """

    #: values in one ``in`` / ``nin`` list
    max_values: int = 1000
    #: lookups in one filter (query-string pairs, or keys of a subscription's filter)
    max_filters: int = 50
    #: words in a search (``?q=``)
    max_search_terms: int = 32
    #: characters in one text value of a filter or search
    max_text: int = 1000

    def check_search(self, text: str) -> None:
        if len(text) > self.max_text:
            raise _limit(["q"], f"a search has at most {self.max_text} characters")
        if len(text.split()) > self.max_search_terms:
            raise _limit(["q"], f"a search has at most {self.max_search_terms} words")

    def check_filters(self, count: int, loc: Sequence[str | int]) -> None:
        if count > self.max_filters:
            raise _limit(loc, f"a filter has at most {self.max_filters} lookups")

    def check_value(self, value: Any, key: str) -> None:
        if isinstance(value, list | tuple) and len(value) > self.max_values:
            raise _limit([key], f"an '{key}' list has at most {self.max_values} values")
        if isinstance(value, str) and len(value) > self.max_text:
            raise _limit([key], f"a filter value has at most {self.max_text} characters")


def _limit(loc: Sequence[str | int], msg: str) -> QueryError:
    return QueryError([{"loc": list(loc), "msg": msg, "type": "limit"}])


def parse_params(
    model: type[Model],
    pairs: Iterable[tuple[str, str]] | Mapping[str, str],
    allowed: Allowed | None = None,
    limits: QueryLimits | None = None,
) -> Node | None:
    """Compile query-string pairs (all ANDed) into a typed filter.

    >>> from tbone import Model
    >>> class Book(Model):
    ...     year: int
    >>> parse_params(Book, [("year__gte", "1960")]).value
    1960

    With ``allowed``, any other field or lookup is a :class:`QueryError` listing what is allowed;
    with ``limits``, so is a filter larger than they allow.
    """
    items = list(pairs.items() if isinstance(pairs, Mapping) else pairs)
    if limits is not None:
        limits.check_filters(len(items), ["query"])
    return conjoin([_param(model, key, text, allowed, limits) for key, text in items])


def parse_filter(
    model: type[Model],
    obj: Mapping[str, Any],
    allowed: Allowed | None = None,
    limits: QueryLimits | None = None,
) -> Node | None:
    """Compile a JSON filter object such as ``{"author": "Herbert", "year__gte": 1960}``.

    Keys are lookups as in the query string (ANDed); values are JSON values of the field's type.
    """
    if not isinstance(obj, Mapping):
        raise QueryError.single(["filter"], "a filter must be a JSON object", "filter_type")
    if limits is not None:
        limits.check_filters(len(obj), ["filter"])
    nodes = []
    for key, value in obj.items():
        if limits is not None:
            limits.check_value(value, str(key))
        target, lookup = _target(model, str(key), allowed)
        nodes.append(Filter(target, lookup, load_value(target, lookup, value, [str(key)])))
    return conjoin(nodes)


def _param(
    model: type[Model], key: str, text: str, allowed: Allowed | None, limits: QueryLimits | None
) -> Filter:
    target, lookup = _target(model, key, allowed)
    if limits is not None and len(text) > limits.max_text and lookup not in ("in", "nin"):
        limits.check_value(text, key)
    value = _from_text(target, lookup, text, key, limits)
    return Filter(target, lookup, load_value(target, lookup, value, [key]))


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


def _from_text(target: Target, lookup: str, text: str, key: str, limits: QueryLimits | None) -> Any:
    if lookup == "exists":
        return _bool(text, key)
    if lookup in ("in", "nin"):
        # split with a bound: a list over the limit is refused before it is typed
        parts = text.split(",", limits.max_values) if limits is not None else text.split(",")
        if limits is not None:
            limits.check_value(parts, key)
            for part in parts:
                limits.check_value(part, key)
        return [_typed(_python_type(target, lookup), part, key) for part in parts]
    return _typed(_python_type(target, lookup), text, key)


def _python_type(target: Target, lookup: str) -> Any:
    if lookup in ("contains", "icontains", "startswith"):
        return target.item.python_type if target.kind == "list" else str
    return target.converter.python_type


def _typed(tp: Any, text: str, key: str) -> Any:
    if tp is bool:
        return _bool(text, key)
    if tp is int or tp is float:
        pattern = _INTEGER if tp is int else _NUMBER
        if len(text) > _MAX_DIGITS or pattern.fullmatch(text) is None:
            what = "an integer" if tp is int else "a number"
            shown = text if len(text) <= 40 else text[:40] + "..."
            raise QueryError.single(
                [key], f"expected {what} in ASCII digits, got {shown!r}", "number_parsing"
            )
        return tp(text)
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
