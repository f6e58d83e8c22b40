"""The memory store runs the whole conformance kit, as any third-party store would."""

from __future__ import annotations

from pathlib import Path

from tbone.storage import MemoryStore, Store
from tbone.testing import StoreConformance


class TestMemoryStore(StoreConformance):
    async def make_store(self, tmp_path: Path) -> Store:
        return MemoryStore()
