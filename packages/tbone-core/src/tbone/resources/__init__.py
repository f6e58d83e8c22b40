"""Resources: models exposed as REST collections, with hooks, scope and permissions."""

from .action import Action, action
from .auth import (
    SAFE_ACTIONS,
    AllowAll,
    Authenticator,
    BearerToken,
    IsAuthenticated,
    PerAction,
    Permission,
    ReadOnly,
)
from .context import Context, Via
from .resource import ACTIONS, ListQuery, ListResult, Resource

__all__ = [
    "ACTIONS",
    "SAFE_ACTIONS",
    "Action",
    "AllowAll",
    "Authenticator",
    "BearerToken",
    "Context",
    "IsAuthenticated",
    "ListQuery",
    "ListResult",
    "PerAction",
    "Permission",
    "ReadOnly",
    "Resource",
    "Via",
    "action",
]
