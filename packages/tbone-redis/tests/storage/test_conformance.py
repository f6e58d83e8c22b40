"""The Redis store runs the whole store conformance kit against a real redis-server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tbone.storage import Store
from tbone.testing import StoreConformance
from tbone_redis import RedisStore
from tbone_redis.testing import RedisServer


class TestRedisStore(StoreConformance):
    server: RedisServer

    @pytest.fixture(autouse=True)
    def _use_server(self, redis_server: RedisServer) -> None:
        self.server = redis_server

    async def make_store(self, tmp_path: Path) -> Store:
        # Every store the kit makes gets keys of its own on the shared server.
        return RedisStore.from_url(f"{self.server.url}?prefix=kit:{tmp_path.name}:")
