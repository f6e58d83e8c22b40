"""``MongoStore``: one MongoDB collection per TBone collection, natural documents.

Documents are stored as :mod:`._codec` describes (``_id`` primary key, BSON dates, Decimal128,
UUIDs, subdocuments, version in ``_v``). Filters, orderings, windows, projections and counts are
compiled by :mod:`._compile` and run in MongoDB; a node MongoDB would answer differently from
the reference store is evaluated in Python over the documents of a superset filter.

Every write is one atomic MongoDB operation whose filter holds the expected version
(``{_id: pk, _v: n}``), so a concurrent writer makes it match nothing: ``Conflict``, never a lost
update. Bulk inserts run in a transaction where the server has them (replica sets, sharded
clusters): capability ``atomic_bulk``. Change streams (capability ``watch``) are in ``_watch``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any, Final, TypeVar

from tbone.errors import Conflict, NotFound, StoreError, StoreUnavailable, ValidationError
from tbone.storage import (
    Change,
    CollectionSpec,
    Document,
    Query,
    Record,
    Store,
    matches,
    sort_records,
)
from tbone.storage.ops import UpdateOps, apply_ops

from ._codec import VERSION, Codec, codec_of
from ._compile import Compiler, query_value
from ._errors import DRIVER_ERRORS, translate
from ._handle import Handle
from ._ops import INT64_MAX, INT64_MIN, MongoUpdate, compile_update
from ._url import client_options, database_of
from ._watch import watch_changes

__all__ = ["MongoStore"]

T = TypeVar("T")
log = logging.getLogger("tbone_mongo")
_NAMESPACE_EXISTS: Final = 48

_REPLACE_ATTEMPTS: Final = 8
_INDEX_TAG: Final = "tbone_"
_NOT_NULL: Final = {"$type": ["double", "string", "object", "array", "binData", "objectId",
                               "bool", "date", "int", "long", "decimal", "timestamp"]}  # fmt: skip
_PROBE: Final = "tbone_probe"


class MongoStore(Store):
    """A MongoDB store: ``MongoStore("mongodb://localhost:27017/shop")``, or a handle the
    application already has, which the store uses and never closes::

        MongoStore(database=AsyncMongoClient(...)["shop"])  # PyMongo >= 4.13
        MongoStore(database=AsyncIOMotorClient(...)["shop"])  # Motor 3.x

    ``prefix`` is put before every collection name (none by default: a resource's collection
    is its name). Capabilities are known once the store is open: ``unique`` always;
    ``atomic_bulk`` and ``watch`` on replica sets and sharded clusters; ``text_search`` where
    the server has text indexes.
    """

    tbone_plugin_api = 1
    capabilities: frozenset[str] = frozenset({"unique", "native_ops"})  # type: ignore[misc]  # set by open()

    def __init__(
        self,
        url: str | None = None,
        *,
        database: Any = None,
        prefix: str = "",
        **options: Any,
    ) -> None:
        if (url is None) == (database is None):
            raise ValueError("give MongoStore exactly one of a URL or database=<a database handle>")
        self.url = url
        self.prefix = prefix
        self._options = options
        self._database_name = database_of(url) if url is not None else database.name
        self._handle: Handle | None = None if database is None else Handle(database)
        self._owns_client = database is None
        self._opening = asyncio.Lock()
        self._detected = False
        self._compilers: dict[str, Compiler] = {}

    @classmethod
    def from_url(cls, url: str) -> MongoStore:
        return cls(url)

    def __repr__(self) -> str:
        where = self.url if self.url is not None else f"database={self._database_name!r}"
        return f"<MongoStore {where}>"

    @property
    def database(self) -> Any:
        """The database handle (PyMongo ``AsyncDatabase`` or Motor's), once connected."""
        return None if self._handle is None else self._handle.db

    # -- lifecycle -------------------------------------------------------------------------------

    async def open(self) -> None:
        handle = self._connect()
        if self._detected:
            return
        async with self._opening:
            if not self._detected:
                self.capabilities = await self._run("open", "_id", self._detect(handle))
                self._detected = True

    async def aclose(self) -> None:
        self.closed = True
        handle, self._handle = self._handle, None
        if handle is not None and self._owns_client:
            await handle.client.close()

    def _connect(self) -> Handle:
        if self.closed:
            raise StoreUnavailable(f"the MongoDB store {self!r} is closed")
        if self._handle is None:
            # the driver stays at the edge: imported when a store first connects
            from pymongo import AsyncMongoClient

            assert self.url is not None
            options = {**client_options(self.url), **self._options}
            client: Any = AsyncMongoClient(self.url, **options)
            self._handle = Handle(client[self._database_name])
        return self._handle

    async def _detect(self, handle: Handle) -> frozenset[str]:
        hello = await handle.command("hello")
        found = {"unique", "native_ops"}
        replicated = "setName" in hello or hello.get("msg") == "isdbgrid"
        if replicated and "logicalSessionTimeoutMinutes" in hello:
            found |= {"atomic_bulk", "watch"}
        if await self._has_text_indexes(handle):
            found.add("text_search")
        return frozenset(found)

    async def _has_text_indexes(self, handle: Handle) -> bool:
        probe = handle.collection(_PROBE)
        try:
            await probe.create_index([("t", "text")], name="tbone_probe_text")
        except DRIVER_ERRORS as exc:
            if getattr(exc, "code", None) is None:  # not the server refusing: unreachable
                raise
            return False
        finally:
            await handle.db.drop_collection(_PROBE)
        return True

    # -- running driver calls: the one place driver errors are translated ------------------------

    async def _run(self, where: str, pk: str, call: Awaitable[T]) -> T:
        try:
            return await call
        except UnicodeEncodeError as exc:  # BSON strings are UTF-8: no lone surrogates
            msg = f"a text holds a lone UTF-16 surrogate, which MongoDB cannot store: {exc}"
            raise ValidationError.single([], msg, "surrogate") from exc
        except DRIVER_ERRORS as exc:
            if self.closed:
                raise StoreUnavailable(f"the MongoDB store {self!r} is closed") from exc
            raise translate(exc, where, pk) from exc

    def _coll(self, spec: CollectionSpec) -> Any:
        return self._connect().collection(self.prefix + spec.name)

    def _compiler(self, spec: CollectionSpec) -> Compiler:
        compiler = self._compilers.get(spec.name)
        if compiler is None or compiler.model is not spec.model:
            codec = codec_of(spec.model, top=True)
            text = "text_search" in self.capabilities
            compiler = self._compilers[spec.name] = Compiler(spec.model, codec, text_index=text)
        return compiler

    # -- schema ----------------------------------------------------------------------------------

    async def prepare(self, spec: CollectionSpec) -> None:
        await self.open()
        await self._run(spec.name, spec.pk, self._indexes(spec))
        if "watch" in self.capabilities:
            await self._run(spec.name, spec.pk, self._keep_images(spec))

    async def _keep_images(self, spec: CollectionSpec) -> None:
        """Ask the server to keep pre-images, so that change events of deletes (and of
        updates) carry the document as it was: subscribers' scopes and filters can then be
        checked for them. Servers without the option (MongoDB < 6.0) send bare deletes."""
        from pymongo.errors import OperationFailure  # the driver, imported with the store

        handle = self._connect()
        name = self.prefix + spec.name
        try:
            await handle.command({"create": name})
        except OperationFailure as exc:
            if exc.code != _NAMESPACE_EXISTS:
                raise
        try:
            await handle.command(
                {"collMod": name, "changeStreamPreAndPostImages": {"enabled": True}}
            )
        except OperationFailure as exc:
            log.info("%s keeps no pre-images (%s): deletes will carry the key only", name, exc)

    async def _indexes(self, spec: CollectionSpec) -> None:
        coll = self._coll(spec)
        wanted: dict[str, dict[str, Any]] = {}
        for name in spec.unique:
            wanted[f"{_INDEX_TAG}unique_{name}"] = {
                "keys": [(name, 1)],
                "unique": True,
                "partialFilterExpression": {name: _NOT_NULL},
            }
        for name in spec.indexes:
            # (field, _id): what a listing ordered by the field, the key breaking ties, reads
            # in order (both ascending, or both descending) and resumes a cursor from
            wanted[f"{_INDEX_TAG}index_{name}"] = {"keys": [(name, 1), ("_id", 1)]}
        if "text_search" in self.capabilities:
            wanted[f"{_INDEX_TAG}text"] = {"keys": [("$**", "text")]}
        existing = await coll.index_information()
        for name in existing:
            if name.startswith(_INDEX_TAG) and name not in wanted:
                await coll.drop_index(name)
        for name, options in wanted.items():
            await self._index(coll, name, dict(options), existing.get(name))

    async def _index(self, coll: Any, name: str, options: dict[str, Any], known: Any) -> None:
        keys = options.pop("keys")
        if known is not None and _same_index(known, keys, options):
            return
        if known is not None:
            await coll.drop_index(name)
        await coll.create_index(keys, name=name, **options)

    # -- writes ----------------------------------------------------------------------------------

    async def insert_docs(self, spec: CollectionSpec, docs: Sequence[Document]) -> None:
        codec = codec_of(spec.model, top=True)
        stored = [codec.to_bson(doc, 1) for doc in docs]
        coll = self._coll(spec)
        if len(stored) == 1:
            await self._run(spec.name, spec.pk, coll.insert_one(stored[0]))
        elif stored and "atomic_bulk" in self.capabilities:

            async def insert(session: Any) -> None:
                await coll.insert_many(stored, session=session)

            await self._run(spec.name, spec.pk, self._connect().in_transaction(insert))
        elif stored:
            await self._run(spec.name, spec.pk, coll.insert_many(stored))

    async def replace_doc(
        self, spec: CollectionSpec, pk: Any, doc: Document, expect_version: int | None
    ) -> int:
        codec = codec_of(spec.model, top=True)
        if expect_version is not None:
            return await self._replace(spec, codec, pk, doc, expect_version, strict=True)
        for _ in range(_REPLACE_ATTEMPTS):
            current = await self._version(spec, codec, pk)
            if current is None:
                raise NotFound(f"no {spec.name} document has {spec.pk} {pk!r}")
            try:
                return await self._replace(spec, codec, pk, doc, current, strict=False)
            except Conflict:
                continue  # written in between: read the new version and try again
        raise Conflict(f"{spec.name} {pk!r} kept changing; gave up after retries")

    async def _replace(
        self, spec: CollectionSpec, codec: Codec, pk: Any, doc: Document, version: int,
        *, strict: bool,
    ) -> int:  # fmt: skip
        stored = codec.to_bson(doc, version + 1)
        key = _key(codec, pk)
        call = self._coll(spec).replace_one({**key, **_at_version(version)}, stored)
        result = await self._run(spec.name, spec.pk, call)
        if result.matched_count:
            return version + 1
        raise await self._missing_or_stale(spec, codec, pk, version) if strict else Conflict("")

    async def update_ops(
        self, spec: CollectionSpec, pk: Any, ops: UpdateOps, expect_version: int | None
    ) -> tuple[Record, Record]:
        """One ``find_one_and_update`` with the operators' limits in its filter (``_ops``),
        returning the document before; the one after is the same operators applied to it."""
        compiled = compile_update(spec.model, ops)
        if compiled is None:
            return await super().update_ops(spec, pk, ops, expect_version)
        codec = codec_of(spec.model, top=True)
        for _ in range(_REPLACE_ATTEMPTS):
            stored = None
            if not compiled.impossible:
                stored = await self._apply(spec, codec, pk, compiled, expect_version)
            if stored is not None:
                before = _record(codec, stored)
                return before, Record(apply_ops(before.doc, ops), before.version + 1)
            found = await self.get_docs(spec, [pk])
            if not found:
                raise NotFound(f"no {spec.name} document has {spec.pk} {pk!r}")
            current = found[0]
            if expect_version is not None and current.version != expect_version:
                raise await self._missing_or_stale(spec, codec, pk, expect_version)
            after = apply_ops(current.doc, ops)  # raises the ValidationError of a failed limit
            if _beyond_int64(after, ops):
                raise ValidationError.single(
                    list(ops.ops[0].path), "MongoDB integers must fit in 64 bits", "int64"
                )
            if compiled.impossible or await self._unversioned(spec, codec, pk):
                # a document written by another program, without a version
                return await super().update_ops(spec, pk, ops, expect_version)
            # changed in between: the next attempt sees the new document
        return await super().update_ops(spec, pk, ops, expect_version)

    async def _apply(
        self,
        spec: CollectionSpec,
        codec: Codec,
        pk: Any,
        compiled: MongoUpdate,
        expect_version: int | None,
    ) -> dict[str, Any] | None:
        conditions = list(compiled.conditions)
        if expect_version is not None:
            conditions.append(_at_version(expect_version))
        filter_ = {**_key(codec, pk), "$and": conditions}
        call = self._coll(spec).find_one_and_update(filter_, compiled.update)
        found: dict[str, Any] | None = await self._run(spec.name, spec.pk, call)
        return found

    async def _unversioned(self, spec: CollectionSpec, codec: Codec, pk: Any) -> bool:
        call = self._coll(spec).find_one(_key(codec, pk), {VERSION: 1})
        found = await self._run(spec.name, spec.pk, call)
        return found is not None and type(found.get(VERSION)) is not int

    async def delete_doc(self, spec: CollectionSpec, pk: Any, expect_version: int | None) -> None:
        codec = codec_of(spec.model, top=True)
        filter_ = _key(codec, pk)
        if expect_version is not None:
            filter_ |= _at_version(expect_version)
        result = await self._run(spec.name, spec.pk, self._coll(spec).delete_one(filter_))
        if not result.deleted_count:
            raise await self._missing_or_stale(spec, codec, pk, expect_version)

    async def delete_where(self, spec: CollectionSpec, query: Query) -> int:
        mql, exact = self._compiler(spec).where(query.where)
        if not exact:
            return await super().delete_where(spec, query)
        result = await self._run(spec.name, spec.pk, self._coll(spec).delete_many(mql))
        return int(result.deleted_count)

    async def _version(self, spec: CollectionSpec, codec: Codec, pk: Any) -> int | None:
        call = self._coll(spec).find_one(_key(codec, pk), {VERSION: 1})
        found = await self._run(spec.name, spec.pk, call)
        if found is None:
            return None
        version = found.get(VERSION)
        return version if type(version) is int else 1

    async def _missing_or_stale(
        self, spec: CollectionSpec, codec: Codec, pk: Any, expected: int | None
    ) -> StoreError:
        current = await self._version(spec, codec, pk)
        if current is None:
            return NotFound(f"no {spec.name} document has {spec.pk} {pk!r}")
        return Conflict(
            f"{spec.name} {pk!r} is at version {current}, not {expected}: "
            "it changed since you read it; read it again and retry"
        )

    # -- reads -----------------------------------------------------------------------------------

    async def get_docs(self, spec: CollectionSpec, pks: Sequence[Any]) -> list[Record]:
        if not pks:
            return []
        codec = codec_of(spec.model, top=True)
        coll = self._coll(spec)
        if len(pks) == 1:
            found = await self._run(spec.name, spec.pk, coll.find_one(_key(codec, pks[0])))
            return [] if found is None else [_record(codec, found)]
        keys = [_key(codec, pk)["_id"] for pk in pks]
        call = coll.find({"_id": {"$in": keys}}).to_list(None)
        records = [_record(codec, d) for d in await self._run(spec.name, spec.pk, call)]
        by_pk = {r.doc[spec.pk]: r for r in records}
        return [by_pk[pk] for pk in dict.fromkeys(pks) if pk in by_pk]

    async def count_docs(self, spec: CollectionSpec, query: Query) -> int:
        mql, exact = self._compiler(spec).where(query.where)
        if exact:
            call = self._coll(spec).count_documents(mql)
            return int(await self._run(spec.name, spec.pk, call))
        return len(await self._narrowed(spec, query, mql))

    async def find_docs(self, spec: CollectionSpec, query: Query) -> list[Record]:
        if query.limit == 0:
            return []
        compiler = self._compiler(spec)
        mql, exact = compiler.where(query.where)
        sort = compiler.sort(query.order)
        if not exact or sort is None:
            records = sort_records(await self._narrowed(spec, query, mql), query.order)
            end = None if query.limit is None else query.offset + query.limit
            return _project(records[query.offset : end], query.fields)
        cursor = self._coll(spec).find(mql, compiler.projection(query.fields))
        if sort:
            cursor = cursor.sort(sort)
        if query.offset:
            cursor = cursor.skip(query.offset)
        if query.limit is not None:
            cursor = cursor.limit(query.limit)
        codec = compiler.codec
        found = await self._run(spec.name, spec.pk, cursor.to_list(None))
        return [_record(codec, d) for d in found]

    async def _narrowed(
        self, spec: CollectionSpec, query: Query, mql: dict[str, Any]
    ) -> list[Record]:
        # MongoDB returns a superset; the reference matcher decides (see _compile).
        codec = codec_of(spec.model, top=True)
        found = await self._run(spec.name, spec.pk, self._coll(spec).find(mql).to_list(None))
        records = [_record(codec, d) for d in found]
        return [r for r in records if matches(query.where, r.doc)]

    # -- change streams --------------------------------------------------------------------------

    def watch(
        self, specs: Sequence[CollectionSpec], *, resume_after: Any = None
    ) -> AsyncIterator[Change]:
        """Committed changes to the collections of ``specs``, from MongoDB change streams.

        ::

            async for change in store.watch([books.spec], resume_after=saved_token):
                print(change.collection, change.op, change.pk, change.doc, change.version)
                saved_token = change.token

        Needs the ``watch`` capability (a replica set or a sharded cluster). Writes by any
        program are seen, TBone's own included; each change carries the version it wrote, so a
        consumer that already knows ``(collection, pk, version)`` can drop the echo. The
        iterator resumes by itself after a lost connection or a server restart, from the last
        change it gave (nothing lost, nothing repeated); when the server no longer has that
        point (oplog rolled over), it logs a warning and goes on from the present.
        """
        if "watch" not in self.capabilities:
            raise StoreError(
                f"{self!r} cannot watch: change streams need a replica set or a sharded "
                "cluster (open the store first, then check store.supports('watch'))"
            )
        named = {self.prefix + s.name: (s.name, codec_of(s.model, top=True)) for s in specs}
        return watch_changes(self._connect(), named, resume_after)


def _beyond_int64(doc: Document, ops: UpdateOps) -> bool:
    for op in ops.ops:
        if op.kind == "inc" and op.integer:
            node: Any = doc
            for name in op.path:
                node = node[name]
            if not INT64_MIN <= node <= INT64_MAX:
                return True
    return False


def _key(codec: Codec, pk: Any) -> dict[str, Any]:
    plan = codec.field(codec.pk or "").to_bson
    return {"_id": query_value(pk if plan is None else plan(pk))}


def _at_version(version: int) -> dict[str, Any]:
    # A document another program wrote without a version is at version 1.
    return {VERSION: {"$in": [1, None]}} if version == 1 else {VERSION: version}


def _record(codec: Codec, stored: dict[str, Any]) -> Record:
    doc, version = codec.from_bson(stored)
    return Record(doc, version)


def _project(records: list[Record], fields: frozenset[str] | None) -> list[Record]:
    if fields is None:
        return records
    return [Record({k: v for k, v in r.doc.items() if k in fields}, r.version) for r in records]


def _same_index(
    known: dict[str, Any], keys: list[tuple[str, Any]], options: dict[str, Any]
) -> bool:
    if options.get("keys") is None and keys and keys[0][1] == "text":
        return True  # text indexes are described differently by the server: keep it
    if [(k, v) for k, v in known.get("key", [])] != keys:
        return False
    return bool(known.get("unique", False)) == bool(options.get("unique", False))
