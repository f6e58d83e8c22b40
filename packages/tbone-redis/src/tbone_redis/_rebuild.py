"""Building the secondary indexes of data that has none yet (``RedisStore.prepare``).

The collection's ``meta`` hash says which index definition (a marker: the entries' format and
the indexed fields) its ``ix:`` keys are complete for. When it is not this process's, the
indexes are rebuilt: ``~<marker>`` is set (writers with the same definition keep it, any other
turns it ``stale``), every document is re-indexed in batches, and the marker is set only if
nobody turned it ``stale`` meanwhile (compare and set). Finds use the indexes only under the
exact marker, so until then, or if a writer with another definition interferes, they scan: slower,
never wrong.
"""

from __future__ import annotations

import json
from typing import Any

from redis.commands.core import AsyncScript

from ._client import Client
from ._index import Indexes

__all__ = ["REINDEX_BATCH", "ensure_indexes"]

REINDEX_BATCH = 500
"""Documents re-indexed per script call: each call holds the server for about a millisecond."""

_ATTEMPTS = 2


async def ensure_indexes(
    client: Client,
    keys: list[str],
    scripts: dict[str, AsyncScript],
    indexes: Indexes,
) -> bool:
    """Rebuild the indexes unless complete for ``indexes.marker``; whether they now are."""
    meta = keys[4]
    marker = indexes.marker
    for _ in range(_ATTEMPTS):
        current = await client.hget(meta, "index")
        if current == marker.encode():
            return True
        building = "~" + marker
        await client.hset(meta, "index", building)
        await _reindex_all(client, keys, scripts["REINDEX"], indexes)
        if await scripts["MARK"](keys=[meta], args=[building, marker]):
            return True
    return False  # another definition keeps writing: finds scan, and stay exact


async def _reindex_all(
    client: Client, keys: list[str], reindex: AsyncScript, indexes: Indexes
) -> None:
    docs_key, ivals_key = keys[0], keys[3]
    batch: list[Any] = []
    async for pk, doc in client.hscan_iter(docs_key, count=REINDEX_BATCH):
        entries = indexes.entries(json.loads(doc), pk.decode())
        batch += [pk, doc, entries]
        if len(batch) >= 3 * REINDEX_BATCH:
            await reindex(keys=keys, args=[indexes.marker, *batch])
            batch = []
    async for pk, _ in client.hscan_iter(ivals_key, count=REINDEX_BATCH):
        batch += [pk, "", ""]  # dropped if its document is gone
        if len(batch) >= 3 * REINDEX_BATCH:
            await reindex(keys=keys, args=[indexes.marker, *batch])
            batch = []
    if batch:
        await reindex(keys=keys, args=[indexes.marker, *batch])
