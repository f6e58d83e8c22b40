"""Change streams: committed changes of watched collections, resumable.

:func:`watch_changes` yields a :class:`Change` per insert, update, replace and delete, with the
document as it is after the change (``full_document="updateLookup"``) and, where the collection
keeps pre-images, before it. Each change carries its resume token; after a lost connection or a
server restart the stream is opened again after the last change given, so nothing is lost and
nothing repeated. If the server no longer has that point, a warning is logged and the stream
goes on from the present.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final, Literal

from pymongo import errors as pe

from tbone.storage import Change

from ._codec import Codec
from ._handle import Handle

__all__ = ["Change", "watch_changes"]

log = logging.getLogger("tbone_mongo.watch")

Op = Literal["created", "updated", "deleted"]
_OPS: Final[dict[str, Op]] = {
    "insert": "created",
    "update": "updated",
    "replace": "updated",
    "delete": "deleted",
}
_LOST: Final = frozenset({260, 280, 286})  # InvalidResumeToken, ChangeStreamFatalError, HistoryLost
_RETRY_DELAY: Final = (0.05, 0.1, 0.2, 0.5, 1.0)


async def watch_changes(
    handle: Handle, named: Mapping[str, tuple[str, Codec]], resume_after: Any
) -> AsyncIterator[Change]:
    """Changes of the MongoDB collections ``named`` (stored name -> TBone name and codec)."""
    pipeline = [
        {"$match": {"ns.coll": {"$in": sorted(named)}, "operationType": {"$in": sorted(_OPS)}}}
    ]
    token = resume_after
    failures = 0
    while True:
        try:
            async with handle.watch(pipeline, **_options(token)) as stream:
                async for event in stream:
                    failures = 0
                    change = _change(event, named)
                    token = change.token
                    yield change
        except pe.OperationFailure as exc:
            if exc.code not in _LOST:
                raise
            log.warning(
                "change stream: the resume point is gone (%s); going on from now, "
                "changes made in between are not reported",
                exc,
            )
            token = None
        except (pe.AutoReconnect, pe.ConnectionFailure, pe.ServerSelectionTimeoutError) as exc:
            delay = _RETRY_DELAY[min(failures, len(_RETRY_DELAY) - 1)]
            failures += 1
            log.info("change stream interrupted (%s); resuming in %.2fs", exc, delay)
            await asyncio.sleep(delay)


def _options(token: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "full_document": "updateLookup",
        "full_document_before_change": "whenAvailable",
    }
    if token is not None:
        options["resume_after"] = token
    return options


def _change(event: Mapping[str, Any], named: Mapping[str, tuple[str, Codec]]) -> Change:
    name, codec = named[event["ns"]["coll"]]
    pk_plan = codec.field(codec.pk or "").from_bson
    key = event["documentKey"]["_id"]
    after = _decode(codec, event.get("fullDocument"))
    before = _decode(codec, event.get("fullDocumentBeforeChange"))
    return Change(
        collection=name,
        op=_OPS[event["operationType"]],
        pk=key if pk_plan is None else pk_plan(key),
        doc=None if after is None else after[0],
        version=None if after is None else after[1],
        before=None if before is None else before[0],
        token=event["_id"],
    )


def _decode(codec: Codec, stored: Any) -> tuple[dict[str, Any], int] | None:
    return None if stored is None else codec.from_bson(stored)
