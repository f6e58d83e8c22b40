"""Every exception TBone raises on purpose.

The hierarchy, so that callers can catch as broadly or narrowly as they need::

    TBoneError
    ├── ValidationError          data did not fit a model (HTTP 422); ``errors`` lists every problem
    │   └── QueryError           a filter, ordering, cursor or projection is not allowed (HTTP 400)
    ├── PluginError              a store, channel or transport cannot be found or used
    │   ├── PluginNotFound       nothing is installed for that scheme or name
    │   └── IncompatiblePlugin   the plugin was built for another core API version
    ├── StoreError               a store could not do what was asked
    │   ├── NotFound             no document with that primary key (HTTP 404)
    │   ├── Conflict             ``expect_version`` is stale (HTTP 409 / 412)
    │   ├── DuplicateKey         a unique field already holds that value (HTTP 409)
    │   └── StoreUnavailable     the store cannot be reached (HTTP 503)
    └── ChannelUnavailable       an event channel is closed or cannot reach its broker

Driver exceptions never escape a store: they are re-raised as one of these, ``from`` the original.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypedDict

__all__ = [
    "ChannelUnavailable",
    "Conflict",
    "DuplicateKey",
    "ErrorDetail",
    "IncompatiblePlugin",
    "NotFound",
    "PluginError",
    "PluginNotFound",
    "QueryError",
    "StoreError",
    "StoreUnavailable",
    "TBoneError",
    "ValidationError",
]

Loc = list[str | int]


class ErrorDetail(TypedDict):
    """One problem found in input: where (``loc``), what (``msg``) and a stable ``type`` code."""

    loc: list[str | int]
    msg: str
    type: str


class TBoneError(Exception):
    """Base class of every TBone error."""


class ValidationError(TBoneError, ValueError):
    """Input did not fit a model; ``errors`` holds every problem found, not only the first.

    >>> ValidationError([{"loc": ["year"], "msg": "must be at most 3000", "type": "le"}]).errors
    [{'loc': ['year'], 'msg': 'must be at most 3000', 'type': 'le'}]
    """

    def __init__(self, errors: Sequence[ErrorDetail], title: str | None = None) -> None:
        self.errors: list[ErrorDetail] = list(errors)
        self.title = title or "invalid data"
        super().__init__(self._summary())

    @classmethod
    def single(cls, loc: Sequence[str | int], msg: str, type: str) -> ValidationError:  # noqa: A002 - mirrors the error dict key
        return cls([{"loc": list(loc), "msg": msg, "type": type}])

    def _summary(self) -> str:
        parts = []
        for err in self.errors[:10]:
            where = ".".join(str(p) for p in err["loc"]) or "<root>"
            parts.append(f"{where}: {err['msg']}")
        more = len(self.errors) - 10
        if more > 0:
            parts.append(f"... and {more} more")
        return f"{self.title}: " + "; ".join(parts)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.errors, self.title))


class QueryError(ValidationError):
    """A query (filter, lookup, ordering, cursor, projection) is not allowed or not valid."""

    def __init__(self, errors: Sequence[ErrorDetail], title: str | None = None) -> None:
        super().__init__(errors, title or "invalid query")


class PluginError(TBoneError):
    """A plugin (store, channel, transport) cannot be found or used."""


class PluginNotFound(PluginError, LookupError):
    """Nothing is installed for the requested scheme or name."""


class IncompatiblePlugin(PluginError):
    """The plugin declares a core API version this tbone-core does not speak."""


class StoreError(TBoneError):
    """A store could not carry out an operation."""


class NotFound(StoreError, LookupError):
    """No document has that primary key."""


class Conflict(StoreError):
    """The document changed since the version the caller expected."""


class DuplicateKey(StoreError):
    """A unique field already holds the value being written."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StoreUnavailable(StoreError):
    """The store cannot be reached or is closed."""


class ChannelUnavailable(TBoneError):
    """An event channel is closed, or its broker cannot be reached."""
