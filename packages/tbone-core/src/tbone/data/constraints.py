"""Value constraints (lengths, bounds, patterns, choices) and how they are checked."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from typing import Any

import attrs

from ._invalid import Invalid

__all__ = ["Constraints", "constraints_from_metadata"]


@attrs.frozen(kw_only=True)
class Constraints:
    """Limits on a value, usable in ``field(...)`` or inside ``Annotated``.

    >>> from typing import Annotated
    >>> Tag = Annotated[str, Constraints(min_length=1, max_length=20)]
    """

    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    ge: Any = None
    gt: Any = None
    le: Any = None
    lt: Any = None
    choices: Collection[Any] | None = None

    def merge(self, other: Constraints) -> Constraints:
        """Return constraints with ``other``'s settings taking precedence where set."""
        updates = {a.name: getattr(other, a.name) for a in attrs.fields(Constraints)}
        return attrs.evolve(self, **{k: v for k, v in updates.items() if v is not None})

    def is_empty(self) -> bool:
        return all(getattr(self, a.name) is None for a in attrs.fields(Constraints))

    def checker(self) -> Callable[[Any], None] | None:
        """Build one function checking every set limit, or ``None`` when nothing is limited."""
        checks = list(self._checks())
        if not checks:
            return None
        if len(checks) == 1:
            return checks[0]

        def check_all(value: Any) -> None:
            for check in checks:
                check(value)

        return check_all

    def _checks(self) -> Iterable[Callable[[Any], None]]:
        if self.min_length is not None:
            yield _min_length(self.min_length)
        if self.max_length is not None:
            yield _max_length(self.max_length)
        if self.pattern is not None:
            yield _pattern(self.pattern)
        for name, op, text in _BOUNDS:
            bound = getattr(self, name)
            if bound is not None:
                yield _bound(name, bound, op, text)
        if self.choices is not None:
            yield _choices(self.choices)


def _units(value: Any, n: int) -> str:
    unit = "character" if isinstance(value, str) else "item"
    return unit if n == 1 else unit + "s"


def _min_length(n: int) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if len(value) < n:
            raise Invalid.one(f"must have at least {n} {_units(value, n)}", "min_length")

    return check


def _max_length(n: int) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if len(value) > n:
            raise Invalid.one(f"must have at most {n} {_units(value, n)}", "max_length")

    return check


def _pattern(pattern: str) -> Callable[[Any], None]:
    compiled = re.compile(pattern)

    def check(value: Any) -> None:
        if compiled.search(value) is None:
            raise Invalid.one(f"must match the pattern {pattern!r}", "pattern")

    return check


_BOUNDS: list[tuple[str, Callable[[Any, Any], bool], str]] = [
    ("ge", lambda v, b: v >= b, "at least"),
    ("gt", lambda v, b: v > b, "greater than"),
    ("le", lambda v, b: v <= b, "at most"),
    ("lt", lambda v, b: v < b, "less than"),
]


def _bound(
    name: str, bound: Any, op: Callable[[Any, Any], bool], text: str
) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not op(value, bound):
            raise Invalid.one(f"must be {text} {bound}", name)

    return check


def _choices(choices: Collection[Any]) -> Callable[[Any], None]:
    allowed = list(choices)
    shown = ", ".join(repr(c) for c in allowed[:20])

    def check(value: Any) -> None:
        # Compare type as well: True == 1, but a bool is not a valid choice among ints.
        if not any(value == c and type(value) is type(c) for c in allowed):
            raise Invalid.one(f"must be one of: {shown}", "choices")

    return check


_DUCK_ATTRS = ("min_length", "max_length", "pattern", "ge", "gt", "le", "lt")


def constraints_from_metadata(metadata: Iterable[Any]) -> Constraints | None:
    """Collect constraints from ``Annotated`` metadata.

    Accepts :class:`Constraints` and objects shaped like those of ``annotated_types``
    (``Ge(0)``, ``MaxLen(10)``, ``Interval(ge=1, lt=5)``...), read by attribute name.
    """
    found: Constraints | None = None
    for item in metadata:
        if isinstance(item, Constraints):
            current = item
        else:
            values = {a: getattr(item, a, None) for a in _DUCK_ATTRS}
            if all(v is None for v in values.values()):
                continue
            current = Constraints(**values)
        found = current if found is None else found.merge(current)
    return found
