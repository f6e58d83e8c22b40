"""Problem details (RFC 9457): every error the API returns, over HTTP and WebSocket alike.

Handlers raise :class:`HTTPError` (or let a :mod:`tbone.errors` exception through);
:func:`problem_for` turns either into the status and ``application/problem+json`` document.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from ..errors import (
    Conflict,
    DuplicateKey,
    ErrorDetail,
    NotFound,
    QueryError,
    StoreUnavailable,
    TBoneError,
    ValidationError,
)

__all__ = ["PROBLEM_JSON", "HTTPError", "problem_body", "problem_for"]

PROBLEM_JSON = "application/problem+json"


class HTTPError(TBoneError):
    """An error with an HTTP status, raised by resources, hooks, authenticators and permissions.

    >>> raise HTTPError(403, "only editors may publish")  # doctest: +SKIP
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
        super().__init__(detail or HTTPStatus(status).phrase)


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
        "title": title or _TITLES.get(status) or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = list(errors)
    return body


def problem_for(exc: BaseException) -> tuple[int, dict[str, Any], tuple[tuple[str, str], ...]]:
    """Status, problem document and extra headers for an exception raised while handling."""
    if isinstance(exc, HTTPError):
        body = problem_body(
            exc.status, exc.detail, title=exc.title, slug=exc.slug, errors=exc.errors
        )
        return exc.status, body, exc.headers
    status, slug, title = _classify(exc)
    errors = exc.errors if isinstance(exc, ValidationError) else ()
    detail = _detail(exc, status)
    return status, problem_body(status, detail, title=title, slug=slug, errors=errors), ()


def _classify(exc: BaseException) -> tuple[int, str | None, str | None]:
    if isinstance(exc, QueryError):
        return 400, "invalid-query", "Invalid query"
    if isinstance(exc, ValidationError):
        return 422, "validation-error", "Invalid data"
    if isinstance(exc, NotFound):
        return 404, None, None
    if isinstance(exc, DuplicateKey):
        return 409, "duplicate-key", "Duplicate value"
    if isinstance(exc, Conflict):
        return 409, "conflict", "Edit conflict"
    if isinstance(exc, StoreUnavailable):
        return 503, "store-unavailable", "Store unavailable"
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
