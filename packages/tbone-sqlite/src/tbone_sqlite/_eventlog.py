"""``EventLog``: the ``sqlite://`` channel's messages, as rows of one table in the SQLite file.

``tbone_channel (id INTEGER PRIMARY KEY AUTOINCREMENT, topic, ts, data)`` holds the recent
messages of every topic. AUTOINCREMENT never reuses an id and SQLite has one writer at a time,
so ids become visible in the order they were given: a reader that has seen id ``n`` will never
find a new row below it. ``tbone_channel_floor (topic, id)`` remembers, per topic, the highest
id trimmed away: a position at or above it is still covered by the history. ``tbone_meta`` holds
the file's epoch, a random token written once, so that positions of another file (or of this
path before the file was recreated) are told apart.

Every statement runs on one aiosqlite connection in autocommit mode; each is atomic alone.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import aiosqlite

__all__ = ["EventLog", "Row"]

Row = tuple[int, bytes]  # (id, data)

_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS tbone_channel (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "topic TEXT NOT NULL, ts REAL NOT NULL, data BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS tbone_channel_topic ON tbone_channel (topic, id)",
    "CREATE INDEX IF NOT EXISTS tbone_channel_age ON tbone_channel (topic, ts)",
    "CREATE TABLE IF NOT EXISTS tbone_channel_floor (topic TEXT PRIMARY KEY, id INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS tbone_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
_EPOCH: Final = "INSERT OR IGNORE INTO tbone_meta VALUES ('epoch', ?)"  # once per file
_SEQUENCE: Final = "SELECT seq FROM sqlite_sequence WHERE name = 'tbone_channel'"
_AFTER: Final = "SELECT id, data FROM tbone_channel WHERE topic = ? AND id > ? ORDER BY id LIMIT ?"
_LAST: Final = "SELECT max(id) FROM tbone_channel WHERE topic = ?"
_FLOOR: Final = "SELECT id FROM tbone_channel_floor WHERE topic = ?"
_BY_COUNT: Final = "SELECT id FROM tbone_channel WHERE topic = ? ORDER BY id DESC LIMIT 1 OFFSET ?"
_BY_AGE: Final = "SELECT max(id) FROM tbone_channel WHERE topic = ? AND ts < ?"
_RAISE_FLOOR: Final = (
    "INSERT INTO tbone_channel_floor (topic, id) VALUES (?, ?) "
    "ON CONFLICT (topic) DO UPDATE SET id = max(id, excluded.id)"
)


class EventLog:
    """The table of one SQLite file: append, read after an id, and trim to a bounded past."""

    def __init__(self, db: aiosqlite.Connection, epoch: str) -> None:
        self.db = db
        self.epoch = epoch

    @classmethod
    async def open(cls, path: str, *, busy: float) -> EventLog:
        """Connect to ``path`` (WAL journal; a write waits ``busy`` seconds for another
        process's lock), create the tables if missing, and read the file's epoch."""
        import aiosqlite  # the driver stays at the edge: imported when a channel first opens

        db = await aiosqlite.connect(path, isolation_level=None, timeout=busy)
        try:
            if path != ":memory:":
                await db.execute_fetchall("PRAGMA journal_mode=WAL")
            await db.execute_fetchall("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                await db.execute_fetchall(statement)
            token = secrets.token_hex(6)
            await db.execute_fetchall(_EPOCH, (token,))
            rows = await db.execute_fetchall("SELECT value FROM tbone_meta WHERE key = 'epoch'")
        except sqlite3.Error:
            await db.close()
            raise
        return cls(db, str(next(iter(rows))[0]))

    async def aclose(self) -> None:
        await self.db.close()

    async def append(self, topic: str, data: bytes) -> int:
        sql = "INSERT INTO tbone_channel (topic, ts, data) VALUES (?, ?, ?) RETURNING id"
        rows = await self.db.execute_fetchall(sql, (topic, time.time(), data))
        return int(next(iter(rows))[0])

    async def after(self, topic: str, after: int, limit: int) -> list[Row]:
        """Up to ``limit`` messages of ``topic`` with an id above ``after``, oldest first."""
        rows = await self.db.execute_fetchall(_AFTER, (topic, after, limit))
        return [(int(i), bytes(d)) for i, d in rows]

    async def size_after(self, topic: str, after: int) -> tuple[int, int]:
        """How many messages of ``topic`` come after id ``after``, and their bytes in all."""
        sql = "SELECT count(*), sum(length(data)) FROM tbone_channel WHERE topic = ? AND id > ?"
        rows = list(await self.db.execute_fetchall(sql, (topic, after)))
        return int(rows[0][0]), int(rows[0][1] or 0)

    async def sequence(self) -> int:
        """The highest id ever given (0 for none): every later message has a higher one."""
        return await self._number(_SEQUENCE)

    async def last(self, topic: str) -> int:
        """The id of the newest message of ``topic``, or its floor when none is kept."""
        return max(await self._number(_LAST, topic), await self._number(_FLOOR, topic))

    async def floor(self, topic: str, history: int, max_age: float) -> int:
        """The highest id of ``topic`` outside the history (the newest ``history`` messages no
        older than ``max_age`` seconds): positions below it are no longer covered."""
        by_count = await self._number(_BY_COUNT, topic, history)
        by_age = await self._number(_BY_AGE, topic, time.time() - max_age)
        return max(by_count, by_age, await self._number(_FLOOR, topic))

    async def trim(self, topic: str, history: int, max_age: float) -> None:
        """Delete the messages of ``topic`` outside the history, remembering the floor."""
        floor = await self.floor(topic, history, max_age)
        if floor:  # the floor first: a crash between the two leaves it safe (resync early)
            await self.db.execute_fetchall(_RAISE_FLOOR, (topic, floor))
            sql = "DELETE FROM tbone_channel WHERE topic = ? AND id <= ?"
            await self.db.execute_fetchall(sql, (topic, floor))

    async def _number(self, sql: str, *params: object) -> int:
        rows = list(await self.db.execute_fetchall(sql, params))
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0
