"""TBone: full-duplex RESTful APIs for asyncio.

Declare a :class:`Model` and a :class:`Resource` once; get a REST API over HTTP and the same API
over a WebSocket with live ``created``/``updated``/``deleted`` events.
"""

from .api import API
from .data import (
    Constraints,
    Model,
    Ref,
    computed,
    field,
    fields_of,
    model_validator,
    pk_of,
    register_type,
)
from .errors import (
    ActionNotAllowed,
    BadRequest,
    Conflict,
    DuplicateKey,
    HTTPError,
    IncompatiblePlugin,
    LimitExceeded,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PluginError,
    PluginNotFound,
    PreconditionFailed,
    QueryError,
    StoreError,
    StoreUnavailable,
    TBoneError,
    TooLarge,
    UnsupportedMediaType,
    ValidationError,
)
from .http import CORS
from .resources import (
    AllowAll,
    BearerToken,
    Context,
    IsAuthenticated,
    ListQuery,
    PerAction,
    ReadOnly,
    Resource,
    action,
)
from .storage import Q, QueryLimits, Store, connect

__version__ = "0.1.0"

__all__ = [
    "API",
    "CORS",
    "ActionNotAllowed",
    "AllowAll",
    "BadRequest",
    "BearerToken",
    "Conflict",
    "Constraints",
    "Context",
    "DuplicateKey",
    "HTTPError",
    "IncompatiblePlugin",
    "IsAuthenticated",
    "LimitExceeded",
    "ListQuery",
    "Model",
    "NotAuthenticated",
    "NotFound",
    "PerAction",
    "PermissionDenied",
    "PluginError",
    "PluginNotFound",
    "PreconditionFailed",
    "Q",
    "QueryError",
    "QueryLimits",
    "ReadOnly",
    "Ref",
    "Resource",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "TBoneError",
    "TooLarge",
    "UnsupportedMediaType",
    "ValidationError",
    "action",
    "computed",
    "connect",
    "field",
    "fields_of",
    "model_validator",
    "pk_of",
    "register_type",
]
