"""``sqlite://`` URLs: ``sqlite:///relative.db``, ``sqlite:////absolute.db``, ``sqlite:///:memory:``.

Options go in the query string: ``?synchronous=full`` (``normal`` is the default, see
docs/stores/sqlite.md) and ``?timeout=5`` (seconds to wait for another process's write lock).
"""

from __future__ import annotations

import urllib.parse
from typing import Any, Final

__all__ = ["SYNCHRONOUS", "number", "parse_url", "split_url"]

SYNCHRONOUS: Final = ("OFF", "NORMAL", "FULL", "EXTRA")
_OPTIONS: Final = ("synchronous", "timeout")


def parse_url(url: str) -> tuple[str, dict[str, Any]]:
    """The database path and the keyword options of ``SQLiteStore``; ``ValueError`` if bad."""
    path, query = split_url(url)
    return path, _options(url, query)


def split_url(url: str) -> tuple[str, dict[str, list[str]]]:
    """The database path and the raw query options of a ``sqlite://`` URL."""
    scheme, sep, rest = url.partition("://")
    if scheme.lower() != "sqlite" or not sep or not rest.startswith("/"):
        raise ValueError(
            f"not a SQLite URL: {url!r}; use sqlite:///relative/path.db, "
            "sqlite:////absolute/path.db or sqlite:///:memory:"
        )
    raw_path, _, query = rest[1:].partition("?")
    path = urllib.parse.unquote(raw_path)
    if not path:
        raise ValueError(f"the SQLite URL {url!r} names no database file")
    return path, urllib.parse.parse_qs(query, keep_blank_values=True)


def number(url: str, name: str, values: list[str]) -> float:
    """The last value of option ``name`` as a number; ``ValueError`` naming it if not one."""
    try:
        return float(values[-1])
    except ValueError:
        raise ValueError(f"{name} in {url!r} must be a number") from None


def _options(url: str, query: dict[str, list[str]]) -> dict[str, Any]:
    unknown = sorted(set(query) - set(_OPTIONS))
    if unknown:
        raise ValueError(
            f"unknown option(s) {', '.join(unknown)} in {url!r}; allowed: {', '.join(_OPTIONS)}"
        )
    options: dict[str, Any] = {}
    if "synchronous" in query:
        options["synchronous"] = query["synchronous"][-1]
    if "timeout" in query:
        options["timeout"] = number(url, "timeout", query["timeout"])
    return options
