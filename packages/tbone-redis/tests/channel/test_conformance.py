"""The Redis channel runs the whole channel conformance kit against a real redis-server."""

from __future__ import annotations

import asyncio

import pytest

from tbone.channel import Channel, connect_channel
from tbone.testing import ChannelConformance
from tbone.testing.plugin import SKIP_PREFIX
from tbone_redis.testing import RedisServer, skip_unless_restartable


class TestRedisChannel(ChannelConformance):
    server: RedisServer

    @pytest.fixture(autouse=True)
    def _use_server(self, redis_server: RedisServer) -> None:
        self.server = redis_server

    async def make_channel(self) -> Channel:
        return connect_channel(self.server.url)

    async def restart_broker(self) -> None:
        skip_unless_restartable(self.server, prefix=f"{SKIP_PREFIX}reconnect: ")
        await asyncio.to_thread(self.server.restart)
