"""TBone's MongoDB store, on PyMongo's native async API: ``tbone.connect("mongodb://h/shop")``.

One MongoDB collection per TBone collection, natural documents (``_id``, BSON dates,
Decimal128, UUIDs, subdocuments, the version in ``_v``), queries compiled to MQL, and change
streams (:meth:`MongoStore.watch`). See docs/stores/mongo.md. Found by tbone through the
``mongodb`` and ``mongodb+srv`` entry points of the ``tbone.backends`` group.

Importing this package registers the :class:`ObjectId` field type with the ODM; the driver
(pymongo) is imported when :class:`MongoStore` or :class:`Change` is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._objectid import ObjectId

if TYPE_CHECKING:
    from ._store import MongoStore

__version__ = "0.1.0"

__all__ = ["Change", "MongoStore", "ObjectId"]


def __getattr__(name: str) -> Any:
    # the driver stays at the edge: models importing ObjectId do not load pymongo
    if name == "MongoStore":
        from ._store import MongoStore

        return MongoStore
    if name == "Change":  # core's, re-exported: what store.watch() yields
        from tbone.storage import Change

        return Change
    raise AttributeError(f"module 'tbone_mongo' has no attribute {name!r}")
