"""``target``: the storage tests that take it run twice, on one Redis server and on a Redis
Cluster (the session's ``redis_server`` and ``redis_cluster``; the same URL form for both)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster


@dataclass(frozen=True)
class Target:
    """Where a test's stores connect: ``url`` names a server, or one node of a cluster."""

    url: str
    cluster: bool

    async def node(self, tag: str) -> Redis:
        """A plain client of the server holding the keys of hash tag ``tag`` (a collection's
        name): the server itself, or the cluster's node that owns the slot of ``{tag}``."""
        if not self.cluster:
            return Redis.from_url(self.url)
        cluster = RedisCluster.from_url(self.url)
        try:
            await cluster.initialize()
            owner = cluster.get_node_from_key(f"{{{tag}}}")
        finally:
            await cluster.aclose()
        return Redis(host=owner.host, port=owner.port)


@pytest.fixture(params=["server", "cluster"])
def target(request: pytest.FixtureRequest) -> Target:
    if request.param == "cluster":
        return Target(request.getfixturevalue("redis_cluster").url, cluster=True)
    return Target(request.getfixturevalue("redis_server").url, cluster=False)
