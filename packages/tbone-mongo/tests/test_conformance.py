"""The MongoDB store runs the whole conformance kit, as a third-party store would."""

from __future__ import annotations

from pathlib import Path

import pytest

from tbone.storage import Store
from tbone.testing import StoreConformance
from tbone_mongo import MongoStore
from tbone_mongo.testing import MongoServer


class TestMongoStore(StoreConformance):
    @pytest.fixture(autouse=True)
    def _server(self, mongo_server: MongoServer) -> None:
        self.server = mongo_server

    async def make_store(self, tmp_path: Path) -> Store:
        store = MongoStore(self.server.database_url())
        await store.open()  # capabilities (atomic_bulk, watch, text_search) are found on open
        return store
