"""The SQLite store runs the whole conformance kit, as a third-party store would."""

from __future__ import annotations

from pathlib import Path

from tbone.storage import Store
from tbone.testing import StoreConformance
from tbone_sqlite import SQLiteStore


class TestSQLiteStore(StoreConformance):
    async def make_store(self, tmp_path: Path) -> Store:
        return SQLiteStore.from_url(f"sqlite:///{tmp_path / 'kit.db'}")


class TestSQLiteMemoryStore(StoreConformance):
    """The same in ``:memory:`` (no WAL: a different journal, the same queries)."""

    async def make_store(self, tmp_path: Path) -> Store:
        return SQLiteStore.from_url("sqlite:///:memory:")
