"""Driver errors as TBone errors: the one place PyMongo's exceptions are translated.

- error 11000 (duplicate key) -> ``DuplicateKey`` naming the field, from ``keyPattern``;
- documents over MongoDB's 16 MB limit -> ``TooLarge`` (HTTP 413);
- values BSON cannot hold (integers past 64 bits, ...) -> ``ValidationError`` (HTTP 422);
- connection and server selection failures, timeouts -> ``StoreUnavailable`` (HTTP 503);
- any other server error -> ``StoreError`` with the server's message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from bson.errors import BSONError
from pymongo import errors as pe

from tbone.errors import (
    DuplicateKey,
    StoreError,
    StoreUnavailable,
    TBoneError,
    TooLarge,
    ValidationError,
)

__all__ = ["DRIVER_ERRORS", "translate"]

DRIVER_ERRORS: Final = (pe.PyMongoError, BSONError, OverflowError)
"""What a driver call can raise that :func:`translate` turns into a TBone error."""

_DUPLICATE: Final = 11000
_TOO_LARGE: Final = frozenset({10334, 17419, 17420, 10329, 2})  # BSONObjectTooLarge & kin
_GONE: Final = (pe.AutoReconnect, pe.ConnectionFailure, pe.ServerSelectionTimeoutError,
                pe.ExecutionTimeout, pe.WTimeoutError, pe.WaitQueueTimeoutError)  # fmt: skip


def translate(exc: BaseException, where: str, pk_name: str) -> TBoneError:
    """The TBone error for driver error ``exc`` raised while working on ``where``."""
    details = _details(exc)
    if details is not None and details.get("code") == _DUPLICATE:
        return _duplicate(details, where, pk_name)
    if isinstance(exc, pe.DocumentTooLarge) or _too_large(exc, details):
        return TooLarge(f"{where}: the document is over MongoDB's 16 MB limit: {exc}")
    if isinstance(exc, BSONError | pe.InvalidOperation | OverflowError) and not isinstance(
        exc, pe.ConnectionFailure
    ):
        if isinstance(exc, pe.InvalidOperation) and "closed" in str(exc):
            return StoreUnavailable(f"{where}: the MongoDB client is closed")
        return ValidationError.single([], f"MongoDB cannot store this value: {exc}", "bson")
    if isinstance(exc, _GONE):
        return StoreUnavailable(f"{where}: MongoDB is unavailable: {_short(exc)}")
    return StoreError(f"{where}: MongoDB said: {_short(exc)}")


def _details(exc: BaseException) -> Mapping[str, Any] | None:
    if isinstance(exc, pe.BulkWriteError):
        errors = exc.details.get("writeErrors") or [{}]
        first: Mapping[str, Any] = errors[0]
        return first
    if isinstance(exc, pe.OperationFailure):
        return exc.details or {"code": exc.code}
    return None


def _too_large(exc: BaseException, details: Mapping[str, Any] | None) -> bool:
    if details is None or details.get("code") not in _TOO_LARGE:
        return False
    return "too large" in str(exc).lower() or details.get("code") != 2


def _duplicate(details: Mapping[str, Any], where: str, pk_name: str) -> DuplicateKey:
    pattern = details.get("keyPattern") or {}
    stored = next(iter(pattern), None) or _field_from_message(str(details.get("errmsg", "")))
    field = pk_name if stored in (None, "_id") else str(stored)
    value = (details.get("keyValue") or {}).get(stored) if stored else None
    shown = "" if value is None else f" {value!r}"
    return DuplicateKey(f"{where}: {field}{shown} is already taken", field=field)


def _field_from_message(message: str) -> str | None:
    # "E11000 duplicate key error collection: db.books index: tbone_unique_isbn dup key: ..."
    name = message.partition(" index: ")[2].partition(" ")[0]
    for prefix in ("tbone_unique_", "tbone_index_"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return "_id" if name.startswith("_id") else None


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text.partition(", full error:")[0][:300]
