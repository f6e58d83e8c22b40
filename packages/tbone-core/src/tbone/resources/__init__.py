"""Resources: models exposed as REST collections, with hooks, scope and permissions."""

from .auth import (
    SAFE_ACTIONS,
    AllowAll,
    Authenticator,
    BearerToken,
    IsAuthenticated,
    Permission,
    ReadOnly,
)
from .context import Context, Via
from .resource import ACTIONS, ListQuery, ListResult, Resource

__all__ = [
    "ACTIONS",
    "SAFE_ACTIONS",
    "AllowAll",
    "Authenticator",
    "BearerToken",
    "Context",
    "IsAuthenticated",
    "ListQuery",
    "ListResult",
    "Permission",
    "ReadOnly",
    "Resource",
    "Via",
]
