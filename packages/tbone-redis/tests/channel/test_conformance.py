"""Both Redis channels run the whole channel conformance kit, on a single redis-server and on a
three-master Redis Cluster (reconnect restarts the server, or every node of the cluster)."""

from __future__ import annotations

import asyncio

import pytest

from tbone.channel import Channel, connect_channel
from tbone.testing import ChannelConformance
from tbone.testing.plugin import SKIP_PREFIX
from tbone_redis.testing import RedisClusterServer, RedisServer, skip_unless_restartable


class _OnRedis(ChannelConformance):
    """The kit against ``scheme`` on the session's server (or cluster)."""

    scheme = "redis"
    server: RedisServer | RedisClusterServer

    async def make_channel(self) -> Channel:
        return connect_channel(self.server.url.replace("redis://", f"{self.scheme}://", 1))

    async def restart_broker(self) -> None:
        skip_unless_restartable(self.server, prefix=f"{SKIP_PREFIX}reconnect: ")
        await asyncio.to_thread(self.server.restart)


class _Standalone(_OnRedis):
    @pytest.fixture(autouse=True)
    def _use_server(self, redis_server: RedisServer) -> None:
        self.server = redis_server


class _Cluster(_OnRedis):
    @pytest.fixture(autouse=True)
    def _use_cluster(self, redis_cluster: RedisClusterServer) -> None:
        self.server = redis_cluster


class TestRedisChannel(_Standalone):
    """Pub/sub on one server."""


class TestRedisChannelOnCluster(_Cluster):
    """Pub/sub through one node of a cluster: PUBLISH reaches the subscribers of every node."""


class TestRedisStreamsChannel(_Standalone):
    scheme = "redis+streams"


class TestRedisStreamsChannelOnCluster(_Cluster):
    scheme = "redis+streams"
