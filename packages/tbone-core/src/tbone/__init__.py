"""TBone: full-duplex RESTful APIs for asyncio.

Declare a :class:`Model` and a :class:`Resource` once; get a REST API over HTTP and the same API
over a WebSocket with live ``created``/``updated``/``deleted`` events.
"""

from .api import API
from .data import (
    Constraints,
    Model,
    computed,
    field,
    fields_of,
    model_validator,
    pk_of,
    register_type,
)
from .errors import (
    Conflict,
    DuplicateKey,
    IncompatiblePlugin,
    NotFound,
    PluginError,
    PluginNotFound,
    QueryError,
    StoreError,
    StoreUnavailable,
    TBoneError,
    ValidationError,
)
from .http import CORS, HTTPError
from .resources import (
    AllowAll,
    BearerToken,
    Context,
    IsAuthenticated,
    ListQuery,
    ReadOnly,
    Resource,
)
from .storage import Q, Store, connect

__version__ = "0.1.0"

__all__ = [
    "API",
    "CORS",
    "AllowAll",
    "BearerToken",
    "Conflict",
    "Constraints",
    "Context",
    "DuplicateKey",
    "HTTPError",
    "IncompatiblePlugin",
    "IsAuthenticated",
    "ListQuery",
    "Model",
    "NotFound",
    "PluginError",
    "PluginNotFound",
    "Q",
    "QueryError",
    "ReadOnly",
    "Resource",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "TBoneError",
    "ValidationError",
    "computed",
    "connect",
    "field",
    "fields_of",
    "model_validator",
    "pk_of",
    "register_type",
]
