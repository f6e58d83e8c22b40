"""The Redis store runs the whole store conformance kit against a real redis-server, and
against a real three-master Redis Cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from tbone.storage import Store
from tbone.testing import StoreConformance
from tbone_redis import RedisStore
from tbone_redis.testing import RedisClusterServer, RedisServer


class TestRedisStore(StoreConformance):
    server: RedisServer | RedisClusterServer

    @pytest.fixture(autouse=True)
    def _use_server(self, redis_server: RedisServer) -> None:
        self.server = redis_server

    async def make_store(self, tmp_path: Path) -> Store:
        # Every store the kit makes gets keys of its own on the shared server.
        return RedisStore.from_url(f"{self.server.url}?prefix=kit:{tmp_path.name}:")


class TestRedisStoreOnCluster(TestRedisStore):
    """The same URL form, naming one node: the store finds the cluster and its other nodes."""

    @pytest.fixture(autouse=True)
    def _use_server(self, redis_cluster: RedisClusterServer) -> None:
        self.server = redis_cluster

    async def make_store(self, tmp_path: Path) -> Store:
        return _OnCluster.from_url(f"{self.server.url}?prefix=kit:{tmp_path.name}:")


class _OnCluster(RedisStore):
    """Fails the behaviour if the store took the cluster for a single server."""

    async def open(self) -> None:
        await super().open()
        assert self.cluster, f"{self.url} is a cluster's node, but the store did not see it"
