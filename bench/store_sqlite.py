"""SQLite store operations through tbone vs raw aiosqlite doing the same SQL work.

Three ways, side by side in one event loop, each on its own file in the same temporary directory:

- ``raw``: hand-written aiosqlite calls with the same schema, statements and JSON encoding and
  decoding of the same documents (dicts in, dicts out): the baseline.
- ``store``: ``SQLiteStore`` methods on the same dicts (what the resource layer calls).
- ``collection``: ``store.collection(Book)`` with models, so ODM validation and conversion are
  in, on a second ``SQLiteStore`` (its own file: each way's inserts grow only its own table
  and WAL, and pay only its own checkpoints).

The raw way decodes and encodes with :mod:`json`; the store with orjson when it is installed
(``tbone-sqlite[fast]``), else :mod:`json` too: ``TBONE_BENCH_STDLIB_JSON=1`` measures that path.

Operations: insert one document; get one by primary key; find the ~10 documents with a given
value of an indexed field, ordered by primary key; update one field (read, modify, write with a
version check).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import aiosqlite

from bench.results import Section
from bench.store_cases import ROWS, YEARS, Book, Cases, crud_cases
from bench.store_cases import doc as _doc
from bench.timing import three_way
from tbone import jsontext
from tbone_sqlite import SQLiteStore, _codec

_SCHEMA = (
    'CREATE TABLE "book" (pk NOT NULL PRIMARY KEY, version INTEGER NOT NULL, doc TEXT NOT NULL, '
    "nul INTEGER GENERATED ALWAYS AS (instr(doc, '\\u0000') > 0) STORED)",
    """CREATE INDEX "book_year" ON "book" (json_extract(doc, '$."year"'))""",
)
_INSERT = 'INSERT INTO "book" (pk, version, doc) VALUES (?, 1, ?)'
_GET = 'SELECT version, doc FROM "book" WHERE pk = ?'
_FIND = """SELECT version, doc FROM "book" WHERE json_extract(doc, '$."year"') = ? ORDER BY pk"""
_UPDATE = (
    'UPDATE "book" SET doc = ?, version = version + 1 WHERE pk = ? AND version = ? '
    "RETURNING version"
)


class Raw:
    """The baseline: what a careful hand-written aiosqlite data layer does."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db
        self.encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    async def insert(self, doc: dict[str, Any]) -> None:
        await self.db.execute_fetchall(_INSERT, (doc["id"], self.encode(doc)))

    async def get(self, pk: str) -> tuple[dict[str, Any], int] | None:
        rows = list(await self.db.execute_fetchall(_GET, (pk,)))
        return (json.loads(rows[0][1]), rows[0][0]) if rows else None

    async def find(self, year: int) -> list[tuple[dict[str, Any], int]]:
        return [(json.loads(d), v) for v, d in await self.db.execute_fetchall(_FIND, (year,))]

    async def update(self, pk: str, changes: dict[str, Any]) -> int:
        found = await self.get(pk)
        assert found is not None
        doc, version = found
        new = {**doc, **changes}
        rows = list(await self.db.execute_fetchall(_UPDATE, (self.encode(new), pk, version)))
        return int(rows[0][0])


async def _setup(root: Path) -> tuple[Raw, SQLiteStore, SQLiteStore]:
    db = await aiosqlite.connect(root / "raw.db", isolation_level=None)
    await db.execute_fetchall("PRAGMA journal_mode=WAL")
    await db.execute_fetchall("PRAGMA synchronous=NORMAL")
    for sql in _SCHEMA:
        await db.execute_fetchall(sql)
    raw = Raw(db)
    store, typed = SQLiteStore(root / "tbone.db"), SQLiteStore(root / "typed.db")
    docs = [_doc(i) for i in range(ROWS)]
    await db.execute("BEGIN")
    await db.executemany(_INSERT, [(d["id"], raw.encode(d)) for d in docs])
    await db.execute("COMMIT")
    for s in (store, typed):
        await s.open()
        await s.collection(Book).insert_many([Book.from_data(d) for d in docs])
    return raw, store, typed


def _cases(raw: Raw, store: SQLiteStore, typed: SQLiteStore) -> Cases:
    return crud_cases(raw, store, Book, _doc, rows=ROWS, years=YEARS, typed=typed)


def run() -> Section:
    """Measure every operation three ways; return the table of throughputs and ratios."""
    if not os.environ.get("TBONE_BENCH_STDLIB_JSON"):
        return _run("")
    saved = jsontext._orjson, _codec._orjson
    jsontext._orjson = _codec._orjson = None
    try:
        return _run(", tbone on stdlib json")
    finally:
        jsontext._orjson, _codec._orjson = saved


def _run(json_path: str) -> Section:
    loop = asyncio.new_event_loop()
    with tempfile.TemporaryDirectory() as tmp:
        raw, store, typed = loop.run_until_complete(_setup(Path(tmp)))
        try:
            section = three_way(
                loop,
                "SQLite store vs raw aiosqlite (same SQL and documents, raw on json), ops/s, WAL, "
                f"synchronous=NORMAL{json_path}",
                _cases(raw, store, typed),
                ROWS,
                rounds=9,  # the best of more rounds: a shared machine is noisy
                key="store/sqlite",
            )
        finally:
            loop.run_until_complete(store.aclose())
            loop.run_until_complete(typed.aclose())
            loop.run_until_complete(raw.db.close())
            loop.close()
    section.text += "\n  store: SQLiteStore methods on dicts; collection: models (ODM included)"
    return section


if __name__ == "__main__":
    print(run().text)
