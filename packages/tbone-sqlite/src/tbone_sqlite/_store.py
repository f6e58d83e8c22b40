"""``SQLiteStore``: documents as JSON in one SQLite table per collection.

Each table is ``(pk PRIMARY KEY, version, doc, nul)``: the primary key in wire form, the
document version, the document as compact JSON text, and a flag computed by SQLite for rows whose
JSON holds an escaped NUL (see ``_compile``). Fields marked ``index`` get an expression index on
``json_extract(doc, '$."field"')``, fields marked ``unique`` a UNIQUE one (SQLite lets NULLs
repeat in a unique index, as ``unique`` requires).

One aiosqlite connection runs every statement in order, in autocommit mode: each write is one
statement (``UPDATE ... WHERE pk = ? AND version = ? RETURNING version``), atomic by itself.
Multi-statement transactions (bulk inserts, schema changes) hold ``_txn``, and any statement
issued while it is held waits for it, so nothing runs inside another caller's transaction.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final

from tbone.errors import (
    Conflict,
    DuplicateKey,
    NotFound,
    QueryError,
    StoreError,
    StoreUnavailable,
    TBoneError,
    ValidationError,
)
from tbone.storage import CollectionSpec, Document, Query, Record, Store, sort_records
from tbone.storage.ops import UpdateOps, apply_ops

from ._codec import decode as _decode
from ._codec import encode as _encode
from ._compile import SQLBuilder, order_terms, sort_term
from ._functions import Functions
from ._halves import halves, halves_sql
from ._limits import INT_MSG, check_integers, fits_int64, invalid_value, too_complex
from ._ops import CompiledUpdate, compile_update
from ._types import IDENT, json_path
from ._url import SYNCHRONOUS, parse_url

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["SQLiteStore"]

_MIN_SQLITE: Final = (3, 38, 0)  # json functions built in, ``->``, RETURNING, generated columns
_INDEX_TAG: Final = "__tbone_"
_INDEXES_OF: Final = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
_LOOKUP_KEY: Final = "json_extract(doc, '{p}')"  # what compiled filters compare (_compile)
# json_extract cuts strings at an escaped NUL, so "a\u0000b" would collide with "a": values
# whose JSON holds \u0000 are keyed by that JSON text instead. No other value's key can equal
# it (its own JSON would then hold \u0000 too); JSON null stays NULL, so nulls never collide.
_UNIQUE_KEY: Final = (
    "CASE WHEN instr(doc -> '{p}', '\\u0000') THEN doc -> '{p}' ELSE json_extract(doc, '{p}') END"
)


class SQLiteStore(Store):
    """A persistent document store in one SQLite file (``sqlite:///books.db``).

    >>> store = SQLiteStore("books.db")  # or tbone.connect("sqlite:///books.db")

    ``synchronous`` is SQLite's ``PRAGMA synchronous`` (``NORMAL`` by default: with the WAL
    journal, every acknowledged write survives the process being killed; ``FULL`` also survives
    power loss, at the cost of an fsync per write). ``timeout`` is how long a write waits for
    another process's lock before ``StoreUnavailable``.
    """

    tbone_plugin_api = 1
    capabilities: ClassVar[frozenset[str]] = frozenset({"unique", "atomic_bulk", "native_ops"})

    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        *,
        synchronous: str = "NORMAL",
        timeout: float = 5.0,
    ) -> None:
        self.path = os.fspath(path)
        self.synchronous = synchronous.upper()
        if self.synchronous not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}")
        self.timeout = timeout
        self._db: aiosqlite.Connection | None = None
        self._opening = asyncio.Lock()
        self._txn = asyncio.Lock()
        self._functions = Functions()
        self._keys = itertools.count(1)
        self._unique_indexes: dict[str, str] = {}  # index name -> field

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        path, options = parse_url(url)
        return cls(path, **options)

    def __repr__(self) -> str:
        return f"<SQLiteStore {self.path!r}>"

    # -- lifecycle -------------------------------------------------------------------------------

    async def open(self) -> None:
        await self._connection()

    async def aclose(self) -> None:
        self.closed = True
        db, self._db = self._db, None
        if db is not None:
            async with self._txn:  # let a running transaction finish first
                await db.close()

    async def _connection(self) -> aiosqlite.Connection:
        if self.closed:
            raise StoreUnavailable(f"the SQLite store {self.path!r} is closed")
        if self._db is None:
            async with self._opening:
                if self._db is None:
                    self._db = await self._connect()
        return self._db

    async def _connect(self) -> aiosqlite.Connection:
        import aiosqlite  # the driver stays at the edge: imported when a store first connects

        if sqlite3.sqlite_version_info < _MIN_SQLITE:
            raise StoreUnavailable(
                f"tbone-sqlite needs SQLite >= 3.38 (JSON functions); "
                f"this Python has {sqlite3.sqlite_version}"
            )
        try:
            db = await aiosqlite.connect(self.path, isolation_level=None, timeout=self.timeout)
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from exc
        try:
            await self._configure(db)
        except sqlite3.Error as exc:
            await db.close()
            raise self._unavailable(exc) from exc
        return db

    async def _configure(self, db: aiosqlite.Connection) -> None:
        if self.path != ":memory:":
            await db.execute_fetchall("PRAGMA journal_mode=WAL")
        await db.execute_fetchall(f"PRAGMA synchronous={self.synchronous}")  # checked name
        for name, nargs, fn, deterministic in self._functions.table():
            await db.create_function(name, nargs, fn, deterministic=deterministic)

    # -- schema ----------------------------------------------------------------------------------

    async def prepare(self, spec: CollectionSpec) -> None:
        table = _table(spec.name)
        wanted = {_index_name(spec.name, f, unique=True): (f, True) for f in spec.unique}
        wanted |= {_index_name(spec.name, f, unique=False): (f, False) for f in spec.indexes}
        statements = [
            f"CREATE TABLE IF NOT EXISTS {table} (pk NOT NULL PRIMARY KEY, "
            "version INTEGER NOT NULL, doc TEXT NOT NULL, "
            "nul INTEGER GENERATED ALWAYS AS (instr(doc, '\\u0000') > 0) STORED)"
        ]
        for name, (field, unique) in wanted.items():
            path = json_path((field,))
            kind, key = ("UNIQUE INDEX", _UNIQUE_KEY) if unique else ("INDEX", _LOOKUP_KEY)
            on = f"{table} ({key.format(p=path)})"
            statements.append(f"CREATE {kind} IF NOT EXISTS {_quote(name)} ON {on}")
        existing = await self._rows(spec, _INDEXES_OF, [spec.name])
        stale = [n for (n,) in existing if _INDEX_TAG in n and n not in wanted]
        statements += [f"DROP INDEX IF EXISTS {_quote(n)}" for n in stale]
        self._unique_indexes.update({n: f for n, (f, unique) in wanted.items() if unique})
        await self._transaction(spec, [(s, ()) for s in statements])

    # -- writes ----------------------------------------------------------------------------------

    async def insert_docs(self, spec: CollectionSpec, docs: Sequence[Document]) -> None:
        sql = f"INSERT INTO {_table(spec.name)} (pk, version, doc) VALUES (?, 1, ?)"
        if len(docs) == 1:
            await self._rows(spec, sql, (docs[0][spec.pk], _json(docs[0])), docs[0])
        elif docs:
            rows = [(doc[spec.pk], _json(doc, [i])) for i, doc in enumerate(docs)]
            await self._transaction(spec, [(sql, rows)], many=True, docs=docs)

    async def replace_doc(
        self, spec: CollectionSpec, pk: Any, doc: Document, expect_version: int | None
    ) -> int:
        if not fits_int64(pk):
            raise _missing(spec, pk)
        sql = f"UPDATE {_table(spec.name)} SET doc = ?, version = version + 1 WHERE pk = ?"
        params: list[Any] = [_json(doc), pk]
        if expect_version is not None:
            sql += " AND version = ?"
            params.append(expect_version)
        rows = await self._rows(spec, sql + " RETURNING version", params, doc)
        if not rows:
            raise await self._missing_or_stale(spec, pk, expect_version)
        return int(rows[0][0])

    async def update_ops(
        self, spec: CollectionSpec, pk: Any, ops: UpdateOps, expect_version: int | None
    ) -> tuple[Record, Record]:
        """One ``UPDATE`` applying ``ops`` with their limits in its ``WHERE`` clause (see
        ``_ops``), in a transaction with the read of the document as it was before."""
        compiled = compile_update(ops)
        if compiled is None:  # add_to_set / pull: read + compare-and-swap
            return await super().update_ops(spec, pk, ops, expect_version)
        if not fits_int64(pk):
            raise _missing(spec, pk)
        table = _table(spec.name)
        where = " AND ".join(["pk = ?", "version = ?", *compiled.conditions])
        sql = (
            f"UPDATE {table} SET doc = {compiled.doc}, version = version + 1 "
            f"WHERE {where} RETURNING version, doc"
        )
        db = await self._connection()
        try:
            async with self._txn:
                await db.execute("BEGIN IMMEDIATE")
                try:
                    before, rows = await self._read_and_update(
                        db, spec, pk, expect_version, sql, compiled
                    )
                    await db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        await db.execute("ROLLBACK")
                    raise
        except (sqlite3.Error, ValueError, OverflowError) as exc:
            raise self._translate(exc, spec, None) from exc
        if not rows:
            apply_ops(before.doc, ops)  # raises the ValidationError of the limit that failed
            raise ValidationError.single(list(ops.ops[0].path), INT_MSG, "int64")
        return before, Record(_decode(rows[0][1]), int(rows[0][0]))

    async def _read_and_update(
        self,
        db: aiosqlite.Connection,
        spec: CollectionSpec,
        pk: Any,
        expect_version: int | None,
        sql: str,
        compiled: CompiledUpdate,
    ) -> tuple[Record, list[Any]]:
        select = f"SELECT version, doc FROM {_table(spec.name)} WHERE pk = ?"
        found = list(await db.execute_fetchall(select, [pk]))
        if not found:
            raise _missing(spec, pk)
        version, doc = found[0]
        if expect_version is not None and version != expect_version:
            raise Conflict(
                f"{spec.name} {pk!r} is at version {version}, not {expect_version}: "
                "it changed since you read it; read it again and retry"
            )
        params = [*compiled.pair_params, pk, version, *compiled.condition_params]
        rows = list(await db.execute_fetchall(sql, params))
        return Record(_decode(doc), version), rows

    async def delete_doc(self, spec: CollectionSpec, pk: Any, expect_version: int | None) -> None:
        if not fits_int64(pk):
            raise _missing(spec, pk)
        sql = f"DELETE FROM {_table(spec.name)} WHERE pk = ?"
        params: list[Any] = [pk]
        if expect_version is not None:
            sql += " AND version = ?"
            params.append(expect_version)
        if not await self._rows(spec, sql + " RETURNING version", params):
            raise await self._missing_or_stale(spec, pk, expect_version)

    async def delete_where(self, spec: CollectionSpec, query: Query) -> int:
        b = SQLBuilder(self._keys, spec.pk)
        where = b.where(query.where)
        sql = f"DELETE FROM {_table(spec.name)} WHERE {where} RETURNING 1"
        with self._functions.using(b.python):
            return len(await self._rows(spec, sql, b.params))

    async def _missing_or_stale(
        self, spec: CollectionSpec, pk: Any, expect_version: int | None
    ) -> StoreError:
        sql = f"SELECT version FROM {_table(spec.name)} WHERE pk = ?"
        rows = await self._rows(spec, sql, [pk])
        if not rows:
            return _missing(spec, pk)
        return Conflict(
            f"{spec.name} {pk!r} is at version {rows[0][0]}, not {expect_version}: "
            "it changed since you read it; read it again and retry"
        )

    # -- reads -----------------------------------------------------------------------------------

    async def get_docs(self, spec: CollectionSpec, pks: Sequence[Any]) -> list[Record]:
        pks = [pk for pk in pks if fits_int64(pk)]  # no stored key is beyond 64 bits
        if not pks:
            return []
        table = _table(spec.name)
        if len(pks) == 1:
            rows = await self._rows(spec, f"SELECT version, doc FROM {table} WHERE pk = ?", pks)
            return [Record(_decode(doc), version) for version, doc in rows]
        # one JSON array, however many keys: SQLite limits bound variables per statement
        sql = f"SELECT pk, version, doc FROM {table} WHERE pk IN (SELECT value FROM json_each(?))"
        rows = await self._rows(spec, sql, [_encode(pks)])
        found = {pk: Record(_decode(doc), v) for pk, v, doc in rows}
        return [found[pk] for pk in dict.fromkeys(pks) if pk in found]

    async def count_docs(self, spec: CollectionSpec, query: Query) -> int:
        b = SQLBuilder(self._keys, spec.pk)
        sql = f"SELECT count(*) FROM {_table(spec.name)} WHERE {b.where(query.where)}"
        with self._functions.using(b.python):
            rows = await self._rows(spec, sql, b.params)
        return int(rows[0][0])

    async def find_docs(self, spec: CollectionSpec, query: Query) -> list[Record]:
        b = SQLBuilder(self._keys, spec.pk)
        terms = order_terms(query.order, spec.pk)
        parts = None if not terms else halves(query, spec.pk)
        if terms and parts is not None:
            sql = halves_sql(b, _table(spec.name), query, parts, terms)
            with self._functions.using(b.python):
                rows = await self._rows(spec, sql, b.params)
            return _project([Record(_decode(doc), v) for v, doc in rows], query.fields)
        sql = f"FROM {_table(spec.name)} WHERE {b.where(query.where)}"
        order = None if terms is None else ", ".join(sort_term(e, d) for e, d in terms)
        if order is None:
            return await self._find_sorted_in_python(spec, query, b, sql)
        names = _projected(query.fields)
        columns = "version, doc" if names is None else _columns(names)
        sql = f"SELECT {columns} {sql}"
        if order:
            sql += f" ORDER BY {order}"
        if query.limit is not None or query.offset:
            if not order:
                sql += " ORDER BY rowid"  # a window needs a stable order
            limit = -1 if query.limit is None else query.limit
            sql += f" LIMIT {b.bind(limit)} OFFSET {b.bind(query.offset)}"
        with self._functions.using(b.python):
            rows = await self._rows(spec, sql, b.params)
        if names is not None:
            return [Record(_from_columns(names, row), row[0]) for row in rows]
        return _project([Record(_decode(doc), version) for version, doc in rows], query.fields)

    async def _find_sorted_in_python(
        self, spec: CollectionSpec, query: Query, b: SQLBuilder, sql: str
    ) -> list[Record]:
        # An ordering key SQL cannot rank like the reference (datetime, Decimal, ...): filter in
        # SQL, then sort, window and project here exactly as the memory store does.
        with self._functions.using(b.python):
            rows = await self._rows(spec, f"SELECT version, doc {sql}", b.params)
        records = sort_records([Record(_decode(doc), v) for v, doc in rows], query.order)
        end = None if query.limit is None else query.offset + query.limit
        return _project(records[query.offset : end], query.fields)

    # -- running statements: the one place driver errors are translated -------------------------

    async def _rows(
        self,
        spec: CollectionSpec,
        sql: str,
        params: Sequence[Any],
        doc: Document | None = None,
    ) -> list[Any]:
        db = self._db if self._db is not None and not self.closed else await self._connection()
        try:
            if self._txn.locked():
                async with self._txn:
                    return list(await db.execute_fetchall(sql, params))
            return list(await db.execute_fetchall(sql, params))
        except (sqlite3.Error, ValueError, OverflowError) as exc:
            raise self._translate(exc, spec, doc, () if doc is None else (doc,)) from exc

    async def _transaction(
        self,
        spec: CollectionSpec,
        steps: Sequence[tuple[str, Any]],
        *,
        many: bool = False,
        docs: Sequence[Document] = (),
    ) -> None:
        db = await self._connection()
        try:
            async with self._txn:
                await db.execute("BEGIN IMMEDIATE")
                try:
                    for sql, params in steps:
                        await (db.executemany(sql, params) if many else db.execute(sql, params))
                    await db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        await db.execute("ROLLBACK")
                    raise
        except (sqlite3.Error, ValueError, OverflowError) as exc:
            raise self._translate(exc, spec, None, docs, indexed=True) from exc

    def _translate(
        self,
        exc: sqlite3.Error | ValueError | OverflowError,
        spec: CollectionSpec,
        doc: Document | None,
        docs: Sequence[Document] = (),
        *,
        indexed: bool = False,
    ) -> TBoneError:
        if isinstance(exc, UnicodeEncodeError | OverflowError):
            return invalid_value(exc, docs, indexed=indexed)  # a str or int SQLite cannot bind
        if self._functions.recursed():
            return QueryError.single([], "the filter is nested too deeply", "too_deep")
        complex_query = too_complex(exc)
        if complex_query is not None:
            return complex_query
        if isinstance(exc, sqlite3.IntegrityError):
            field = self._duplicate_field(spec, str(exc))
            if field is not None:
                shown = f" {doc[field]!r}" if doc is not None and field in doc else ""
                return DuplicateKey(f"{spec.name}: {field}{shown} is already taken", field=field)
        if self.closed:
            return StoreUnavailable(f"the SQLite store {self.path!r} is closed")
        return self._unavailable(exc)

    def _duplicate_field(self, spec: CollectionSpec, message: str) -> str | None:
        # "UNIQUE constraint failed: books.pk" or "UNIQUE constraint failed: index 'name'"
        if "UNIQUE" not in message:
            return None
        if message.endswith(".pk"):
            return spec.pk
        name = message.rpartition("index ")[2].strip("'\"")
        tag = _INDEX_TAG + "unique_"
        return self._unique_indexes.get(name) or (name.rpartition(tag)[2] if tag in name else None)

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        return StoreUnavailable(f"SQLite database {self.path!r}: {exc}")


def _json(doc: Document, loc: Sequence[str | int] = ()) -> str:
    try:
        text = _encode(doc)
    except (TypeError, ValueError) as exc:
        raise ValidationError.single(loc, f"the document is not JSON-ready: {exc}", "json") from exc
    check_integers(doc, text, loc)
    return text


def _missing(spec: CollectionSpec, pk: Any) -> NotFound:
    return NotFound(f"no {spec.name} document has {spec.pk} {pk!r}")


def _quote(name: str) -> str:
    if "\0" in name:
        raise ValueError(f"SQLite names cannot hold NUL characters: {name!r}")
    return '"' + name.replace('"', '""') + '"'


@functools.lru_cache(maxsize=256)  # a statement or more per operation name their table
def _table(name: str) -> str:
    if name.lower().startswith("sqlite_"):
        raise ValueError(f"collection names starting with 'sqlite_' are reserved: {name!r}")
    return _quote(name)


def _index_name(table: str, field: str, *, unique: bool) -> str:
    if not IDENT.match(field):
        raise ValueError(f"cannot index field {field!r}: not a plain field name")
    return f"{table}{_INDEX_TAG}{'unique' if unique else 'index'}_{field}"


def _projected(fields: frozenset[str] | None) -> list[str] | None:
    if fields is None or not all(IDENT.match(f) for f in fields):
        return None
    return sorted(fields)


def _project(records: list[Record], fields: frozenset[str] | None) -> list[Record]:
    if fields is None:
        return records
    return [Record({k: v for k, v in r.doc.items() if k in fields}, r.version) for r in records]


def _columns(names: list[str]) -> str:
    # ``->`` gives each field's JSON text (SQL NULL when absent), decoded by _from_columns.
    return "version, " + ", ".join(f"doc -> '{json_path((n,))}'" for n in names)


def _from_columns(names: list[str], row: Sequence[Any]) -> Document:
    return {n: _decode(v) for n, v in zip(names, row[1:], strict=True) if v is not None}
