"""The realtime-semantics kit on both Redis channels, on one redis-server and on a
three-master Redis Cluster: Streams replays after a seq; pub/sub keeps no history, so every
resume answers resync."""

from __future__ import annotations

import pytest

from tbone.channel import Channel
from tbone.testing import LiveConformance
from tbone_redis import RedisChannel, RedisStreamsChannel
from tbone_redis.testing import RedisClusterServer, RedisServer


class _OnRedis(LiveConformance):
    streams = False
    server: RedisServer | RedisClusterServer

    async def make_channel(self, name: str) -> Channel:
        prefix = f"{name}:"  # one per behaviour run, shared by its two APIs
        if self.streams:
            url = self.server.url.replace("redis://", "redis+streams://", 1)
            return RedisStreamsChannel(url, prefix=prefix)
        return RedisChannel(self.server.url, prefix=prefix)


class _Standalone(_OnRedis):
    @pytest.fixture(autouse=True)
    def _use_server(self, redis_server: RedisServer) -> None:
        self.server = redis_server


class _Cluster(_OnRedis):
    @pytest.fixture(autouse=True)
    def _use_cluster(self, redis_cluster: RedisClusterServer) -> None:
        self.server = redis_cluster


class TestRedisPubSub(_Standalone):
    pass


class TestRedisPubSubOnCluster(_Cluster):
    pass


class TestRedisStreams(_Standalone):
    streams = True


class TestRedisStreamsOnCluster(_Cluster):
    streams = True
