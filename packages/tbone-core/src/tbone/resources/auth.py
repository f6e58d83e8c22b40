"""Authentication and permissions: the protocols, and ready-made implementations.

An **authenticator** turns a request into a user (or ``None`` for anonymous) and raises
``NotAuthenticated`` for credentials that are present but wrong. A **permission** answers whether
a context may perform an action (``list detail create replace update delete``), optionally on
one object. Both are plain objects passed to ``API(...)`` or set on a ``Resource``.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..errors import NotAuthenticated

if TYPE_CHECKING:
    from ..data import Model
    from ..http.message import Request
    from .context import Context

__all__ = [
    "SAFE_ACTIONS",
    "AllowAll",
    "Authenticator",
    "BearerToken",
    "IsAuthenticated",
    "Permission",
    "ReadOnly",
]

SAFE_ACTIONS = frozenset({"list", "detail"})


@runtime_checkable
class Authenticator(Protocol):
    """Identifies the user behind a request (HTTP request, or a WebSocket's opening request)."""

    async def authenticate(self, request: Request) -> Any:
        """The user, or ``None`` when the request carries no credentials."""
        ...


@runtime_checkable
class Permission(Protocol):
    """Decides whether an action is allowed; ``obj`` is given for single-object actions."""

    async def allows(self, ctx: Context, action: str, obj: Model | None = None) -> bool: ...


class BearerToken:
    """``Authorization: Bearer <token>`` against a mapping of tokens to users, or a callable.

    >>> auth = BearerToken({"s3cret": "alice"})
    >>> auth = BearerToken(verify=lambda token: lookup_user(token))  # doctest: +SKIP

    ``verify`` may be sync or async and returns the user or ``None`` for an unknown token.
    """

    def __init__(
        self,
        tokens: Mapping[str, Any] | None = None,
        *,
        verify: Callable[[str], Any | Awaitable[Any]] | None = None,
        realm: str = "api",
    ) -> None:
        if (tokens is None) == (verify is None):
            raise TypeError("BearerToken takes tokens or verify=, exactly one of them")
        self._tokens = dict(tokens or {})
        self._verify = verify
        self.realm = realm

    async def authenticate(self, request: Request) -> Any:
        header = request.headers.get("authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise self._challenge("use the Authorization header as 'Bearer <token>'")
        user = await self._lookup(token)
        if user is None:
            raise self._challenge("the bearer token is not valid")
        return user

    async def _lookup(self, token: str) -> Any:
        if self._verify is not None:
            result = self._verify(token)
            return await result if isinstance(result, Awaitable) else result
        # Compare every known token in constant time so timing does not reveal a prefix.
        # Header text may carry undecodable bytes as surrogate escapes (Sanic): compare bytes.
        given = token.encode("utf-8", "surrogateescape")
        found = None
        for known, user in self._tokens.items():
            if hmac.compare_digest(known.encode("utf-8", "surrogateescape"), given):
                found = user
        return found

    def _challenge(self, detail: str) -> NotAuthenticated:
        header = f'Bearer realm="{self.realm}", error="invalid_token"'
        return NotAuthenticated(detail, challenge=header)


class AllowAll:
    """Every action is allowed (the default)."""

    async def allows(self, ctx: Context, action: str, obj: Model | None = None) -> bool:
        return True


class ReadOnly:
    """Only ``list`` and ``detail``: the API is read-only for everyone."""

    async def allows(self, ctx: Context, action: str, obj: Model | None = None) -> bool:
        return action in SAFE_ACTIONS


class IsAuthenticated:
    """Any authenticated user; with ``read_anonymously=True`` anonymous users may read."""

    def __init__(self, *, read_anonymously: bool = False) -> None:
        self.read_anonymously = read_anonymously

    async def allows(self, ctx: Context, action: str, obj: Model | None = None) -> bool:
        if ctx.user is not None:
            return True
        return self.read_anonymously and action in SAFE_ACTIONS
