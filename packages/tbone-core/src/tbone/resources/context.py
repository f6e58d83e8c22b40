"""``Context``: who is asking, through what, for one call of a resource."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import attrs

if TYPE_CHECKING:
    from ..api import API
    from ..http.message import Request

__all__ = ["Context", "Via"]

Via = Literal["http", "websocket", "python"]


@attrs.define(kw_only=True)
class Context:
    """Passed to every resource method, hook, ``scope`` and permission.

    ``user`` is what the authenticator returned (``None`` when anonymous). A context made for
    a Python call without one (``ctx=None``) is ``trusted``: permissions are not checked, but
    ``scope`` still applies, so write ``scope`` to allow what trusted code needs.
    """

    #: the API serving the call (None for a resource used on its own), for hooks that call
    #: other resources: ``await ctx.api.resource("authors").detail(...)``
    api: API | None = None
    request: Request | None = None
    user: Any = None
    via: Via = "python"
    trusted: bool = False
    #: free-form per-call storage for hooks and authenticators
    state: dict[str, Any] = attrs.field(factory=dict)
