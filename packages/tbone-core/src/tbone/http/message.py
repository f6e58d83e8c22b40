"""Sans-io HTTP messages: what transports hand to the API and what they get back.

Transports (tbone-sanic, tbone-aiohttp, the WebSocket session) build a :class:`Request` from
whatever their framework gives them, call ``await api.handle(request)``, and write the
:class:`Response` out unchanged. No HTTP semantics live in transports.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, overload
from urllib.parse import parse_qsl

import attrs

from ..errors import BadRequest

__all__ = ["Headers", "Request", "Response"]

_T = TypeVar("_T")


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only request headers; repeated headers are joined with ", "."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        self._items: dict[str, str]
        # concrete types first: isinstance of an ABC (Mapping, and so Headers) is slow
        if isinstance(items, list | tuple):  # what transports hand over
            merged = {name.lower(): value for name, value in items}
            if len(merged) == len(items):  # no header repeated: nothing to join
                self._items = merged
                return
        elif type(items) is Headers:  # already merged and read-only: share it
            self._items = items._items
            return
        pairs = items.items() if isinstance(items, Mapping) else items
        merged = {}
        for name, value in pairs:
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        self._items = merged

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    @overload
    def get(self, name: str, /) -> str | None: ...
    @overload
    def get(self, name: str, /, default: str | _T) -> str | _T: ...
    def get(self, name: str, /, default: object = None) -> object:
        # a plain lookup: Mapping.get would raise and catch a KeyError for every absent header
        return self._items.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Any:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@attrs.frozen
class Request:
    """One HTTP request: ``path`` and ``query_string`` exactly as sent (still percent-encoded).

    The router splits ``path`` into segments before decoding each, so an id containing an
    encoded ``/`` stays one segment.
    """

    method: str
    path: str
    query_string: str = ""
    headers: Headers = attrs.field(factory=Headers, converter=Headers)
    body: bytes = b""

    @functools.cached_property
    def query(self) -> list[tuple[str, str]]:
        """The query string as ordered (name, value) pairs, blank values kept (parsed once;
        read it, do not change it).

        ``BadRequest`` when a percent-encoded name or value is not UTF-8 (a lone surrogate's
        encoding among them): replacing it would make it another, possibly real, value.
        """
        try:
            return parse_qsl(self.query_string, keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            raise BadRequest(
                "the query string is not valid UTF-8 once percent-decoded", slug="bad-url"
            ) from None


@attrs.frozen
class Response:
    """One HTTP response; ``headers`` keep their order and may repeat."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), if present."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None
