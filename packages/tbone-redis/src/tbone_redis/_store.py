"""``redis://`` / ``rediss://``: documents as JSON in Redis hashes, written by Lua scripts.

Per collection, under ``<prefix>{<name>}:`` (the braces keep a collection's keys in one Redis
Cluster slot, which a script touching several keys needs):

- ``docs``      hash  primary key (canonical JSON) -> document (JSON)
- ``versions``  hash  primary key -> version (1 on insert, +1 per write)
- ``uvals``     hash  primary key -> the document's unique values (JSON array)
- ``ivals``     hash  primary key -> the document's index entries (JSON array, see ``_index``)
- ``meta``      hash  ``index`` -> the index definition the ``ix:`` keys are complete for
- ``unique:<field>`` hash  value (canonical JSON) -> primary key, one per unique field
- ``ix:<field>:eq:<value>`` set, ``ix:<field>:num`` / ``ix:<field>:lex`` sorted sets: the
  secondary indexes of fields marked ``index`` or ``unique`` (``_index``)

Every write is one Lua script (see ``_scripts``), so version checks, unique checks, index
maintenance and the write are atomic, and a bulk insert stores all documents or none.

A query whose filter is an AND with a primary key ``exact``/``in`` or an ``exact``, ``in``,
range or ``startswith`` conjunct on an indexed field runs the ``FIND`` script: it measures
each usable index, reads only the documents of the smallest (``_plan``), and the query is then
evaluated on them with core's reference ``matches`` / ``sort_records``, exactly the memory
store's semantics. Other queries (OR, NOT, unindexed fields) read ``docs`` and ``versions`` in
one MULTI (on a Redis Cluster: one ``READ`` script) and evaluate the query on the whole
collection.

The URL names one server or any node of a Redis Cluster: ``_client.connect`` tells them apart.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Sequence
from typing import Any, ClassVar, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from redis.commands.core import AsyncScript

from tbone.errors import Conflict, DuplicateKey, NotFound, StoreUnavailable, ValidationError
from tbone.storage import CollectionSpec, Document, Query, Record, Store, matches, sort_records
from tbone.storage.ops import UpdateOps, apply_ops
from tbone.storage.query import Node

from . import _scripts
from ._client import Client, connect
from ._errors import safe_url, store_errors
from ._index import Indexes
from ._ops import op_args
from ._plan import Planner
from ._rebuild import ensure_indexes

__all__ = ["RedisStore"]

_SCRIPTS = ("INSERT", "REPLACE", "DELETE", "FIND", "READ", "REINDEX", "MARK", "UPDATE_OPS")

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_canonical = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, sort_keys=True
).encode


class RedisStore(Store):
    """A document store in Redis: ``tbone.connect("redis://localhost:6379/0")``.

    ``prefix`` (default ``"tbone:"``, or ``?prefix=`` in the URL) starts every key, so several
    applications can share a database. Queries on indexed fields read only the documents their
    index finds; others scan the collection (see the module docstring).
    """

    tbone_plugin_api = 1
    capabilities: ClassVar[frozenset[str]] = frozenset({"unique", "atomic_bulk", "native_ops"})
    #: A query whose best index holds more than this fraction of the collection reads the
    #: whole collection instead (one HGETALL beats fetching most documents one by one).
    scan_above: ClassVar[float] = 0.5

    def __init__(self, url: str = "redis://localhost:6379/0", *, prefix: str = "tbone:") -> None:
        self.url = url
        self.prefix = prefix
        self.cluster = False
        self._client: Client | None = None
        self._scripts: dict[str, AsyncScript] = {}
        self._open_lock = asyncio.Lock()
        self._plans: dict[str, tuple[CollectionSpec, Planner]] = {}

    @classmethod
    def from_url(cls, url: str) -> Self:
        """``redis://host:port/db?prefix=app:``; ``prefix`` is ours, the rest goes to redis-py."""
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        prefix = [v for k, v in query if k == "prefix"]
        rest = urlencode([(k, v) for k, v in query if k != "prefix"])
        plain = urlunsplit(parts._replace(query=rest))
        return cls(plain, prefix=prefix[-1]) if prefix else cls(plain)

    async def open(self) -> None:
        """Connect and check the server answers; the first operation does it if you don't."""
        self._check_open()
        async with self._open_lock:
            if self._client is not None:
                return
            client, self.cluster = await connect(self.url, store_errors)
            self._scripts = {
                name: client.register_script(getattr(_scripts, name)) for name in _SCRIPTS
            }
            self._client = client

    async def aclose(self) -> None:
        await super().aclose()
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    # -- the four required methods ------------------------------------------------------------

    async def insert_docs(self, spec: CollectionSpec, docs: Sequence[Document]) -> None:
        if not docs:
            return
        indexes = self._planner(spec).indexes
        args: list[Any] = [indexes.marker, len(spec.unique)]
        for doc in docs:
            pk = _pk(doc[spec.pk])
            args += [pk, _json(doc), indexes.entries(doc, pk), *_unique_values(spec, doc)]
        reply = await self._run(spec, "INSERT", args, "insert documents")
        self._check(spec, reply, None, docs)

    async def find_docs(self, spec: CollectionSpec, query: Query) -> list[Record]:
        where = query.where
        records = await self._candidates(spec, where)
        found = records if where is None else [r for r in records if matches(where, r.doc)]
        found = sort_records(found, query.order)
        end = None if query.limit is None else query.offset + query.limit
        window = found[query.offset : end]
        if query.fields is None:
            return window
        return [Record({k: v for k, v in r.doc.items() if k in query.fields}, r.version)
                for r in window]  # fmt: skip

    async def replace_doc(
        self, spec: CollectionSpec, pk: Any, doc: Document, expect_version: int | None
    ) -> int:
        indexes = self._planner(spec).indexes
        key = _pk(pk)
        args = [indexes.marker, key, _expected(expect_version), _json(doc),
                indexes.entries(doc, key), *_unique_values(spec, doc)]  # fmt: skip
        reply = await self._run(spec, "REPLACE", args, f"replace {pk!r}")
        return self._check(spec, reply, pk, [doc])

    async def update_ops(
        self, spec: CollectionSpec, pk: Any, ops: UpdateOps, expect_version: int | None
    ) -> tuple[Record, Record]:
        """One ``UPDATE_OPS`` script: the operators, their limits, the version, the unique
        values and the index entries, in one atomic step (see ``_scripts`` and ``_ops``)."""
        indexes = self._planner(spec).indexes
        key = _pk(pk)
        args = op_args(spec, indexes, key, ops, _normal)
        if args is None:
            return await super().update_ops(spec, pk, ops, expect_version)
        args = [indexes.marker, key, _expected(expect_version), *args]
        reply = await self._run(spec, "UPDATE_OPS", args, f"update {pk!r}")
        outcome = reply[0]
        if outcome == b"ok":
            before, after = json.loads(reply[2]), json.loads(reply[3])
            version = int(reply[1])
            return Record(before, version - 1), Record(after, version)
        if outcome == b"refused":
            apply_ops(json.loads(reply[1]), ops)  # raises the ValidationError of that limit
        if outcome == b"dup":
            field = spec.unique[int(reply[1]) - 1]
            raise DuplicateKey(f"{spec.name}: that {field} is already taken", field=field)
        if outcome in (b"refused", b"slow"):
            return await super().update_ops(spec, pk, ops, expect_version)
        self._check(spec, reply, pk)
        raise AssertionError(f"unexpected reply {reply!r}")  # pragma: no cover - _check raises

    async def delete_doc(self, spec: CollectionSpec, pk: Any, expect_version: int | None) -> None:
        args = [self._planner(spec).indexes.marker, _pk(pk), _expected(expect_version)]
        reply = await self._run(spec, "DELETE", args, "delete")
        self._check(spec, reply, pk)

    # -- faster conveniences ------------------------------------------------------------------

    async def get_docs(self, spec: CollectionSpec, pks: Sequence[Any]) -> list[Record]:
        if not pks:
            return []
        docs, versions = await self._read(spec, [_pk(pk) for pk in pks])
        return [
            Record(json.loads(doc), int(version))
            for doc, version in zip(docs, versions, strict=True)
            if doc is not None and version is not None
        ]

    async def count_docs(self, spec: CollectionSpec, query: Query) -> int:
        if query.where is None:
            client = await self._ready()
            with store_errors(self.url, f"count {spec.name}"):
                count: int = await client.hlen(self._keys(spec)[1])
            return count
        where = query.where
        return sum(1 for r in await self._candidates(spec, where) if matches(where, r.doc))

    async def prepare(self, spec: CollectionSpec) -> None:
        """Build the secondary indexes when they are missing or for another definition.

        Data written before the indexes existed (or before a field was marked ``index``) is
        indexed here, once, in batches of ``REINDEX_BATCH`` (500) documents (one script each, so
        the server is never blocked for long); finds scan until it is done.
        """
        client = await self._ready()
        with store_errors(self.url, f"index {spec.name}"):
            await ensure_indexes(
                client, self._keys(spec), self._scripts, self._planner(spec).indexes
            )

    # -- helpers ------------------------------------------------------------------------------

    def _keys(self, spec: CollectionSpec) -> list[str]:
        base = f"{self.prefix}{{{spec.name}}}:"
        return [
            f"{base}docs",
            f"{base}versions",
            f"{base}uvals",
            f"{base}ivals",
            f"{base}meta",
            *(f"{base}unique:{name}" for name in spec.unique),
        ]

    def _planner(self, spec: CollectionSpec) -> Planner:
        known = self._plans.get(spec.name)
        if known is not None and (known[0] is spec or known[0] == spec):
            return known[1]
        planner = Planner(spec, Indexes.of(spec), _pk)
        self._plans[spec.name] = (spec, planner)
        return planner

    async def _candidates(self, spec: CollectionSpec, where: Node | None) -> list[Record]:
        """Documents that may match ``where``: those of its best index, else all of them."""
        planner = self._planner(spec)
        probes = planner.probes(where)
        if probes:
            all_keys = self._keys(spec)
            keys = [all_keys[0], all_keys[1], all_keys[4]]  # docs, versions, meta
            await self._ready()
            with store_errors(self.url, f"read {spec.name}"):
                reply = await self._scripts["FIND"](
                    keys=keys, args=[planner.indexes.marker, repr(self.scan_above), *probes]
                )
            if reply[0] == b"ok":
                pairs = iter(reply[1:])
                return [Record(json.loads(d), int(v)) for d, v in zip(pairs, pairs, strict=True)]
        return await self._scan(spec)

    async def _scan(self, spec: CollectionSpec) -> list[Record]:
        docs, versions = await self._read(spec, None)
        return [
            Record(json.loads(doc), int(versions[pk])) for pk, doc in docs.items() if pk in versions
        ]

    async def _read(self, spec: CollectionSpec, pks: list[str] | None) -> tuple[Any, Any]:
        """``docs`` and ``versions`` read in one step: their ``HMGET`` of ``pks``, or their
        ``HGETALL`` (dicts) for ``None``. One server runs them in a MULTI; a cluster in the
        ``READ`` script, which its client runs as fast as any command."""
        docs_key, versions_key = self._keys(spec)[:2]
        client = await self._ready()
        with store_errors(self.url, f"read {spec.name}"):
            if self.cluster:
                keys = [docs_key, versions_key]
                docs, versions = await self._scripts["READ"](keys=keys, args=pks or [])
                if pks is None:
                    return _pairs(docs), _pairs(versions)
                return docs, versions
            async with client.pipeline(transaction=True) as pipe:
                if pks is None:
                    pipe.hgetall(docs_key)
                    pipe.hgetall(versions_key)
                else:
                    pipe.hmget(docs_key, pks)
                    pipe.hmget(versions_key, pks)
                docs, versions = await pipe.execute()
            return docs, versions

    async def _run(self, spec: CollectionSpec, script: str, args: list[Any], doing: str) -> Any:
        await self._ready()
        with store_errors(self.url, f"{doing} in {spec.name}"):
            return await self._scripts[script](keys=self._keys(spec), args=args)

    def _check(
        self, spec: CollectionSpec, reply: Any, pk: Any, docs: Sequence[Document] = ()
    ) -> int:
        outcome = reply[0]
        if outcome == b"ok":
            return int(reply[1])
        if outcome == b"missing":
            raise NotFound(f"no {spec.name} document has {spec.pk} {pk!r}")
        if outcome == b"conflict":
            raise Conflict(
                f"{spec.name} {pk!r} is at version {reply[1]}: it changed since you read it; "
                "read it again and retry"
            )
        field = spec.pk if reply[1] == 0 else spec.unique[int(reply[1]) - 1]
        value = docs[int(reply[2])].get(field) if docs else None
        if field == spec.pk:
            raise DuplicateKey(f"{spec.name}: {field} {value!r} already exists", field=field)
        raise DuplicateKey(f"{spec.name}: {field} {value!r} is already taken", field=field)

    async def _ready(self) -> Client:
        self._check_open()
        if self._client is None:
            await self.open()
        assert self._client is not None  # set by open()
        return self._client

    def _check_open(self) -> None:
        if self.closed:
            raise StoreUnavailable(f"the redis store {safe_url(self.url)} is closed")


def _pairs(flat: list[bytes]) -> dict[bytes, bytes]:
    """A script's ``HGETALL`` reply (a flat list) as the dict redis-py makes of the command's."""
    it = iter(flat)
    return dict(zip(it, it, strict=True))


def _json(doc: Document) -> str:
    try:
        return _encode(doc)
    except (TypeError, ValueError) as exc:
        raise ValidationError.single([], f"the document is not JSON-ready: {exc}", "json") from exc


def _pk(pk: Any) -> str:
    return _canonical(_normal(pk))


def _unique_values(spec: CollectionSpec, doc: Document) -> list[str]:
    return [
        "" if (value := doc.get(name)) is None else _canonical(_normal(value))
        for name in spec.unique
    ]


def _normal(value: Any) -> Any:
    """Equal numbers as one spelling: ``2.0`` is stored as ``2``, as Python compares them."""
    if type(value) is float and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def _expected(expect_version: int | None) -> str:
    return "" if expect_version is None else str(int(expect_version))
