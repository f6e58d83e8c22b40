"""One live server of the hostile API (an adapter on a store), and trusted access to its data.

A case's "nothing stored" check compares :meth:`Target.snapshot` before and after it: every
stored document in full (private, read-only and write-only values included) with its version,
read through the collections on the server's own loop, never through the HTTP layer under test.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import attrs
import httpx

from tbone.data import version_of
from tbone.testing.transport import LiveServer

from .app import MODELS, SEED

Snapshot = dict[str, dict[str, Any]]


@attrs.define
class Target:
    """``adapter`` serving the hostile API on ``store``; ``http`` is a client for it."""

    adapter: str
    store: str
    server: LiveServer
    http: httpx.Client
    baseline: Snapshot = attrs.field(factory=dict)
    #: a snapshot known to be current (taken after the last HTTP case's answer; only reads
    #: followed it), which spares :meth:`ensure_baseline` a read of every document
    known: Snapshot | None = None
    #: the snapshot :func:`~.cases.check_stored` took last
    last: Snapshot | None = None

    @property
    def name(self) -> str:
        return f"{self.adapter} on {self.store}"

    def trusted(self, fn: Any) -> Any:
        """Await ``fn()`` on the server's loop (a trusted call that bypasses HTTP)."""
        return asyncio.run(self.server.call(fn))

    def reset(self) -> None:
        """Every collection holds exactly :data:`SEED` again, each document at version 1."""

        async def reset() -> None:
            for name, docs in SEED.items():
                collection = self.server.api.resource(name).collection
                await collection.delete_many()
                await collection.insert_many([MODELS[name].from_data(doc) for doc in docs])

        self.trusted(reset)
        self.baseline = self.snapshot()

    def snapshot(self) -> Snapshot:
        """resource -> pk -> {"data": full stored form, "version": n}, read by a trusted call."""

        async def read() -> Snapshot:
            found: Snapshot = {}
            for name in SEED:
                resource = self.server.api.resource(name)
                page = await resource.collection.find(limit=10_000)
                found[name] = {
                    _key(getattr(obj, resource.pk)): {
                        "data": obj.to_data(full=True),
                        "version": version_of(obj),
                    }
                    for obj in page
                }
            return found

        snap: Snapshot = self.trusted(read)
        return snap

    def ensure_baseline(self) -> Snapshot:
        """Reset if the last case left anything behind (a failed case, or an allowed write);
        the data is then exactly :attr:`baseline`, which this returns."""
        current = self.snapshot() if self.known is None else self.known
        self.known = None
        if current != self.baseline:
            self.reset()
        return self.baseline


def _key(pk: Any) -> str:
    return json.dumps(pk)  # 1 and "1" stay apart


def changed_documents(before: Snapshot, after: Snapshot, *, versions: bool = True) -> list[str]:
    """What differs between two snapshots, one line each (empty when nothing changed)."""
    lines: list[str] = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, {}), after.get(name, {})
        for pk in sorted(set(old) | set(new)):
            if pk not in new:
                lines.append(f"{name} {pk} was deleted")
            elif pk not in old:
                lines.append(f"{name} {pk} was created: {_short(new[pk]['data'])}")
            elif old[pk]["data"] != new[pk]["data"]:
                lines.append(
                    f"{name} {pk} changed: {_short(old[pk]['data'])} -> {_short(new[pk]['data'])}"
                )
            elif versions and old[pk]["version"] != new[pk]["version"]:
                lines.append(f"{name} {pk} version {old[pk]['version']} -> {new[pk]['version']}")
    return lines


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit] + "..."
