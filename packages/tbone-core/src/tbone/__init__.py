"""TBone: full-duplex RESTful APIs for asyncio.

Declare a :class:`Model` and a resource once; get a REST API over HTTP and the same API over a
WebSocket with live ``created``/``updated``/``deleted`` events.
"""

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

__version__ = "0.1.0"

__all__ = [
    "Conflict",
    "Constraints",
    "DuplicateKey",
    "IncompatiblePlugin",
    "Model",
    "NotFound",
    "PluginError",
    "PluginNotFound",
    "QueryError",
    "StoreError",
    "StoreUnavailable",
    "TBoneError",
    "ValidationError",
    "computed",
    "field",
    "fields_of",
    "model_validator",
    "pk_of",
    "register_type",
]
