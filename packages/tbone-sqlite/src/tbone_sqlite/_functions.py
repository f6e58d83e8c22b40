"""SQL functions the compiled queries call, registered on each connection of a store.

- ``tbone_match(key, doc)``: the reference matcher on one row, for the query node bound as
  ``key`` (filters SQL cannot express exactly: ``datetime`` and ``Decimal`` values, structural
  equality of lists and objects, text on rows holding a NUL).
- ``tbone_lower(text)``: Python's ``str.lower`` (SQLite's ``lower`` only folds ASCII).
- ``tbone_text(doc, dotted)``: the full string at a path (``json_extract`` cuts it at a NUL).
- ``tbone_json_key(json)``: how the reference orders objects and lists among themselves.

Nodes live in :class:`Functions` (one per store) only while their statement runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from tbone.storage import Node, matches, value_at

__all__ = ["Functions"]

_NOTHING: AbstractContextManager[None] = nullcontext()


class Functions:
    """The Python side of a store's SQL functions."""

    def __init__(self) -> None:
        self.nodes: dict[int, Node] = {}
        self._recursed = False

    def using(self, nodes: dict[int, Node]) -> AbstractContextManager[None]:
        """Make ``nodes`` available to ``tbone_match`` while a statement runs."""
        # most statements match nothing in Python: no generator made for them
        return self._using(nodes) if nodes else _NOTHING

    @contextmanager
    def _using(self, nodes: dict[int, Node]) -> Iterator[None]:
        self.nodes.update(nodes)
        try:
            yield
        finally:
            for key in nodes:
                del self.nodes[key]

    def match(self, key: int, doc: str) -> int:
        try:
            return 1 if matches(self.nodes[key], json.loads(doc)) else 0
        except RecursionError:
            self._recursed = True  # SQLite only says "user-defined function raised exception"
            raise

    def recursed(self) -> bool:
        """Whether a filter was too deep for the matcher since this was last asked."""
        recursed, self._recursed = self._recursed, False
        return recursed

    def table(self) -> list[tuple[str, int, Any, bool]]:
        """(name, number of arguments, function, deterministic) of every function."""
        return [
            ("tbone_match", 2, self.match, False),
            ("tbone_lower", 1, _lower, True),
            ("tbone_text", 2, _text, True),
            ("tbone_json_key", 1, _json_key, True),
        ]


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else None


def _text(doc: str, dotted: str) -> str | None:
    value = value_at(json.loads(doc), dotted.split("."))
    return value if isinstance(value, str) else None


def _json_key(text: str | None) -> str | None:
    # The matcher's sort_key for objects and lists: their JSON with sorted keys.
    return None if text is None else json.dumps(json.loads(text), sort_keys=True, default=str)
