"""``SubscriptionIndex``: the subscriptions of one resource, found by what a write holds.

A write costs work for the subscriptions it concerns, not for all of them: subscriptions to one
object are found by its key, and subscriptions whose filter requires a field to equal a value
(``{"author": "Herbert"}``, or one of a list with ``author__in``) by that field's value in the
document before and after the write. The others (ranges, text, no filter) are tested each time.
The index only narrows: every candidate is still decided by :meth:`LiveSubscription.kind_of`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..storage.matcher import hash_key, native_at
from ..storage.path import Target
from ..storage.query import And, Filter, Node
from .live import LiveSubscription

__all__ = ["SubscriptionIndex"]

Key = tuple[int, Any]


class SubscriptionIndex:
    """Add, remove, and find the candidates of a write."""

    def __init__(self) -> None:
        self._all: dict[int, LiveSubscription] = {}
        self._scan: dict[int, LiveSubscription] = {}
        self._by_pk: dict[Any, dict[int, LiveSubscription]] = {}
        # path -> (target, value key -> subscriptions)
        self._by_value: dict[tuple[str, ...], tuple[Target, dict[Key, dict[int, Any]]]] = {}
        self._where: dict[int, tuple[str, ...] | None] = {}

    def __len__(self) -> int:
        return len(self._all)

    def __iter__(self) -> Iterator[LiveSubscription]:
        return iter(list(self._all.values()))

    def add(self, sub: LiveSubscription) -> None:
        ident = id(sub)
        self._all[ident] = sub
        if sub.pk is not None:
            self._by_pk.setdefault(sub.pk, {})[ident] = sub
            return
        equal = _equality(sub.where)
        if equal is None:
            self._scan[ident] = sub
            return
        target, keys = equal
        entry = self._by_value.setdefault(target.path, (target, {}))
        for key in keys:
            entry[1].setdefault(key, {})[ident] = sub
        self._where[ident] = target.path

    def remove(self, sub: LiveSubscription) -> None:
        ident = id(sub)
        if self._all.pop(ident, None) is None:
            return
        self._scan.pop(ident, None)
        if sub.pk is not None:
            _discard(self._by_pk, sub.pk, ident)
            return
        path = self._where.pop(ident, None)
        if path is None:
            return
        _, by_key = self._by_value[path]
        for key in list(by_key):
            _discard(by_key, key, ident)
        if not by_key:
            del self._by_value[path]

    def candidates(
        self, pk: Any, doc: dict[str, Any], before: dict[str, Any] | None
    ) -> list[LiveSubscription]:
        """The subscriptions this write may concern (a superset of those it does)."""
        found: dict[int, LiveSubscription] = dict(self._scan)
        found.update(self._by_pk.get(pk, {}))
        for target, by_key in self._by_value.values():
            for state in (doc, before):
                if state is None:
                    continue
                key = _key_at(target, state)
                if key is not None:
                    found.update(by_key.get(key, {}))
        return list(found.values())


def _equality(where: Node | None) -> tuple[Target, list[Key]] | None:
    """One ``exact`` / ``in`` condition every match must meet, with hashable values."""
    conditions = where.children if isinstance(where, And) else (where,)
    for node in conditions:
        if isinstance(node, Filter) and node.lookup in ("exact", "in") and node.value is not None:
            if node.target.kind not in ("scalar", "any"):
                continue
            values = node.value if node.lookup == "in" else (node.value,)
            keys = [hash_key(v) for v in values]
            if all(k is not None for k in keys):
                return node.target, [k for k in keys if k is not None]
    return None


def _key_at(target: Target, doc: dict[str, Any]) -> Key | None:
    try:
        return hash_key(native_at(target, doc))
    except Exception:  # a stored value the field's type does not read: no index entry
        return None


def _discard(table: dict[Any, dict[int, Any]], key: Any, ident: int) -> None:
    subs = table.get(key)
    if subs is not None:
        subs.pop(ident, None)
        if not subs:
            del table[key]
