"""Storage: the ``Store`` contract, typed collections, the query model and the memory store.

Backends subclass :class:`Store`; applications use ``store.collection(Model)``. See
docs/storage.md for the contract, the query language and its ordering semantics.
"""

from .collection import Collection, Page
from .connect import connect
from .cursor import decode_cursor, encode_cursor, value_at
from .lookup import LOOKUPS
from .matcher import matches, sort_records
from .memory import MemoryStore
from .ops import Each, UpdateOps, each
from .params import Allowed, QueryLimits, parse_filter, parse_params
from .path import Kind, Target
from .query import (
    And,
    Filter,
    Node,
    Not,
    Or,
    Order,
    Q,
    Query,
    Search,
    compile_where,
    conjoin,
    parse_order,
)
from .rewrite import expand_search
from .store import CAPABILITIES, Change, CollectionSpec, Document, Record, Store

__all__ = [
    "CAPABILITIES",
    "LOOKUPS",
    "Allowed",
    "And",
    "Change",
    "Collection",
    "CollectionSpec",
    "Document",
    "Each",
    "Filter",
    "Kind",
    "MemoryStore",
    "Node",
    "Not",
    "Or",
    "Order",
    "Page",
    "Q",
    "Query",
    "QueryLimits",
    "Record",
    "Search",
    "Store",
    "Target",
    "UpdateOps",
    "compile_where",
    "conjoin",
    "connect",
    "decode_cursor",
    "each",
    "encode_cursor",
    "expand_search",
    "matches",
    "parse_filter",
    "parse_order",
    "parse_params",
    "sort_records",
    "value_at",
]
