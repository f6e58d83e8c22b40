"""Every exception TBone raises on purpose.

The hierarchy, so that callers can catch as broadly or narrowly as they need::

    TBoneError
    ├── ValidationError          data did not fit a model (422); ``errors`` lists every problem
    │   └── QueryError           a filter, ordering, cursor or projection is not allowed (400)
    ├── BadRequest               the request itself cannot be read: JSON, URL, frame (400)
    │   └── FrameError           a WebSocket frame the server cannot act on (400)
    ├── NotAuthenticated         credentials are missing or wrong (401)
    ├── PermissionDenied         the caller may not do this (403)
    ├── ActionNotAllowed         the resource does not serve this action (405)
    ├── PreconditionFailed       ``If-Match`` names a version that is not current (412)
    ├── TooLarge                 a body or a bulk request is over its limit (413)
    ├── UnsupportedMediaType     the body is not JSON (415)
    ├── LimitExceeded            a per-connection limit is used up (429)
    ├── HTTPError                any status, for application code (hooks, authenticators)
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
Domain code raises these and never names an HTTP status (``HTTPError`` is the exception for
application code that wants one); ``tbone.http.problem`` maps every class to its status, in one
table, for HTTP responses and WebSocket error frames alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self, TypedDict

__all__ = [
    "ActionNotAllowed",
    "BadRequest",
    "ChannelUnavailable",
    "Conflict",
    "DuplicateKey",
    "ErrorDetail",
    "FrameError",
    "HTTPError",
    "IncompatiblePlugin",
    "LimitExceeded",
    "NotAuthenticated",
    "NotFound",
    "PermissionDenied",
    "PluginError",
    "PluginNotFound",
    "PreconditionFailed",
    "QueryError",
    "StoreError",
    "StoreUnavailable",
    "TBoneError",
    "TooLarge",
    "UnsupportedMediaType",
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
    def single(cls, loc: Sequence[str | int], msg: str, type: str) -> Self:  # noqa: A002 - mirrors the error dict key
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


class BadRequest(TBoneError):
    """The request cannot be read: malformed JSON, a URL that is not UTF-8, a bad header.

    ``slug`` names the problem type (``urn:tbone:problem:<slug>``) when it is more specific
    than the class's.
    """

    def __init__(self, detail: str, *, slug: str | None = None) -> None:
        super().__init__(detail)
        self.slug = slug


class FrameError(BadRequest):
    """A WebSocket frame the server cannot act on; answered with an error frame, the socket
    stays open. ``frame_id`` is the id to answer to, when the frame had a usable one."""

    def __init__(self, detail: str, frame_id: Any = None) -> None:
        super().__init__(detail, slug="bad-frame")
        self.frame_id = frame_id


class NotAuthenticated(TBoneError):
    """Credentials are required and missing, or present and wrong.

    ``challenge`` is the ``WWW-Authenticate`` value to send, e.g. ``Bearer realm="api"``.
    """

    def __init__(self, detail: str = "authentication required", *, challenge: str | None = None):
        super().__init__(detail)
        self.challenge = challenge


class PermissionDenied(TBoneError):
    """The caller is known and may not do this."""


class ActionNotAllowed(TBoneError):
    """The resource does not serve this action (its ``actions`` leave it out)."""


class PreconditionFailed(TBoneError):
    """A conditional request (``If-Match``) names a version that is not the current one."""


class TooLarge(TBoneError):
    """A body, a frame or a bulk request is larger than its limit."""

    def __init__(self, detail: str, *, slug: str | None = None) -> None:
        super().__init__(detail)
        self.slug = slug


class UnsupportedMediaType(TBoneError):
    """The request body is not in a format the API reads (JSON)."""


class LimitExceeded(TBoneError):
    """A per-connection allowance (subscriptions, say) is used up; free some and retry."""


class HTTPError(TBoneError):
    """An error with an explicit HTTP status, for application code: hooks, authenticators,
    permissions. TBone's own code raises the specific classes above instead.

    >>> raise HTTPError(402, "this shelf is for subscribers")  # doctest: +SKIP
    """

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        errors: Sequence[ErrorDetail] = (),
        headers: Sequence[tuple[str, str]] = (),
        title: str | None = None,
        slug: str | None = None,
    ) -> None:
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.headers = tuple(headers)
        self.title = title
        self.slug = slug
        super().__init__(detail or f"HTTP {status}")


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
