"""Authentication and permissions: the protocols, and ready-made implementations.

An **authenticator** turns a request into a user (or ``None`` for anonymous) and raises
``NotAuthenticated`` for credentials that are present but wrong. A **permission** answers whether
a context may perform an action (``list detail create replace update delete``, or a custom
action's name), optionally on one object. Both are plain objects passed to ``API(...)`` or set
on a ``Resource``. :class:`PerAction` gives actions, by name, permissions of their own.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
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
    "PerAction",
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
    """Only ``list`` and ``detail``, and the custom actions named in ``allow`` (none by
    default, even GET ones: an action's code decides whether it writes)."""

    def __init__(self, *, allow: Iterable[str] = ()) -> None:
        self.allowed = SAFE_ACTIONS | frozenset(allow)

    async def allows(self, ctx: Context, action: str, obj: Model | None = None) -> bool:
        return action in self.allowed


class IsAuthenticated:
    """Any authenticated user; with ``read_anonymously=True`` anonymous users may read, and
    ``anonymous`` names custom actions anonymous users may also call."""

    def __init__(self, *, read_anonymously: bool = False, anonymous: Iterable[str] = ()) -> None:
        self.read_anonymously = read_anonymously
        self.anonymous = frozenset(anonymous)

    async def allows(self, ctx: Context, action: str, obj: Model | None = None) -> bool:
        if ctx.user is not None or action in self.anonymous:
            return True
        return self.read_anonymously and action in SAFE_ACTIONS


class PerAction:
    """Permissions by action name: each named action must pass all of its permissions, any
    other action those of ``default`` (allowed when there are none).

    >>> PerAction(
    ...     {"publish": [IsEditor()], "bestsellers": True}, default=[ReadOnly()]
    ... )  # doctest: +SKIP

    lets editors publish, everyone call ``bestsellers``, and everyone only read otherwise.
    ``True`` (or ``[]``) allows an action to everyone, ``False`` refuses it to everyone;
    trusted Python calls skip permissions, as always.
    """

    def __init__(
        self,
        actions: Mapping[str, Permission | Sequence[Permission] | bool],
        *,
        default: Sequence[Permission] = (),
    ) -> None:
        self.actions = {name: _as_list(rule) for name, rule in actions.items()}
        self.default = tuple(default)

    async def allows(self, ctx: Context, action: str, obj: Model | None = None) -> bool:
        rules = self.actions.get(action, self.default)
        if rules is None:
            return False
        for permission in rules:
            if not await permission.allows(ctx, action, obj):
                return False
        return True


def _as_list(rule: Permission | Sequence[Permission] | bool) -> tuple[Permission, ...] | None:
    if rule is True:
        return ()
    if rule is False:
        return None
    if isinstance(rule, Permission):
        return (rule,)
    return tuple(rule)
