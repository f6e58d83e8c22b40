"""Problem details (RFC 9457): every error the API returns, over HTTP and WebSocket alike.

This module is the one place that knows which HTTP status each :mod:`tbone.errors` class
means; :func:`problem_for` turns any exception raised while handling into that status, its
``application/problem+json`` document and the headers it needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from ..errors import (
    ActionNotAllowed,
    BadRequest,
    Conflict,
    DuplicateKey,
    ErrorDetail,
    HTTPError,
    LimitExceeded,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    QueryError,
    StoreUnavailable,
    TooLarge,
    UnsupportedMediaType,
    ValidationError,
)

__all__ = ["PROBLEM_JSON", "HTTPError", "problem_body", "problem_for", "status_of"]

PROBLEM_JSON = "application/problem+json"

# class -> (status, problem slug, title); the first class in an exception's MRO found here wins.
_PROBLEMS: dict[type[BaseException], tuple[int, str | None, str | None]] = {
    QueryError: (400, "invalid-query", "Invalid query"),
    ValidationError: (422, "validation-error", "Invalid data"),
    BadRequest: (400, "bad-request", None),
    NotAuthenticated: (401, "unauthorized", None),
    PermissionDenied: (403, "forbidden", None),
    NotFound: (404, None, None),
    ActionNotAllowed: (405, "method-not-allowed", None),
    DuplicateKey: (409, "duplicate-key", "Duplicate value"),
    Conflict: (409, "conflict", "Edit conflict"),
    PreconditionFailed: (412, "precondition-failed", None),
    TooLarge: (413, "too-large", None),
    UnsupportedMediaType: (415, "unsupported-media-type", None),
    LimitExceeded: (429, "limit-exceeded", None),
    StoreUnavailable: (503, "store-unavailable", "Store unavailable"),
}

# RFC 9110 names, fixed here because Python's HTTPStatus phrases changed between versions.
_TITLES = {
    413: "Content Too Large",
    414: "URI Too Long",
    416: "Range Not Satisfiable",
    422: "Unprocessable Content",
}


def _slug_url(slug: str) -> str:
    return f"urn:tbone:problem:{slug}"


def problem_body(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    slug: str | None = None,
    errors: Sequence[ErrorDetail] = (),
) -> dict[str, Any]:
    """The problem document for ``status``; ``slug`` names a TBone problem type."""
    body: dict[str, Any] = {
        "type": _slug_url(slug) if slug else "about:blank",
        "title": title or _TITLES.get(status) or _phrase(status),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = list(errors)
    return body


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # a status Python does not name (an application's HTTPError(499))
        return f"HTTP {status}"


def status_of(exc: BaseException) -> int:
    """The HTTP status ``exc`` means (500 for anything TBone did not raise on purpose)."""
    if isinstance(exc, HTTPError):
        return exc.status
    return _classify(exc)[0]


def problem_for(exc: BaseException) -> tuple[int, dict[str, Any], tuple[tuple[str, str], ...]]:
    """Status, problem document and extra headers for an exception raised while handling."""
    if isinstance(exc, HTTPError):
        body = problem_body(
            exc.status, exc.detail, title=exc.title, slug=exc.slug, errors=exc.errors
        )
        return exc.status, body, exc.headers
    status, slug, title = _classify(exc)
    slug = getattr(exc, "slug", None) or slug
    errors = exc.errors if isinstance(exc, ValidationError) else ()
    body = problem_body(status, _detail(exc, status), title=title, slug=slug, errors=errors)
    headers: tuple[tuple[str, str], ...] = ()
    if isinstance(exc, NotAuthenticated) and exc.challenge:
        headers = (("WWW-Authenticate", exc.challenge),)
    return status, body, headers


def _classify(exc: BaseException) -> tuple[int, str | None, str | None]:
    for klass in type(exc).__mro__:
        found = _PROBLEMS.get(klass)
        if found is not None:
            return found
    return 500, None, None


def _detail(exc: BaseException, status: int) -> str:
    if status == 500:
        return "the server failed to handle this request; the error was logged"
    if isinstance(exc, ValidationError):
        count = len(exc.errors)
        return f"{count} problem{'s' if count != 1 else ''} found; see errors"
    if isinstance(exc, StoreUnavailable):
        return "the store is unavailable; try again later"
    return str(exc)
