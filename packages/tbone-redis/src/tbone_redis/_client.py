"""The one place that decides whether a URL names a single Redis server or a Redis Cluster.

The URL forms are the same for both (``redis://host:port/0``, ``rediss://…``): ``connect``
asks the server ``INFO cluster`` and, when it says ``cluster_enabled``, drops that connection
and opens a :class:`~redis.asyncio.cluster.RedisCluster` that discovers the other nodes from
this one. The streams channel and the store both connect here.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

__all__ = ["Client", "Errors", "connect", "make_client"]

Client = Redis | RedisCluster
Errors = Callable[[str, str], AbstractContextManager[None]]
"""``channel_errors`` or ``store_errors``: how a driver error met while connecting surfaces."""


def make_client(url: str, cluster: bool, **options: Any) -> Client:
    """A client of ``url`` (a plain ``redis://`` / ``rediss://`` URL); not connected yet."""
    if cluster:
        return RedisCluster.from_url(url, **options)
    return Redis.from_url(url, **options)


async def connect(url: str, errors: Errors, **options: Any) -> tuple[Client, bool]:
    """A connected client of ``url`` and whether it is a cluster's (``options`` go to redis-py).

    ``errors(url, doing)`` wraps every step, so an unreachable server, a bad URL or a cluster
    that is not ready surfaces as the caller's error (``StoreUnavailable``, ...)."""
    with errors(url, "parse the URL"):
        single = make_client(url, False, **options)
    try:
        with errors(url, "connect"):
            info = await single.info("cluster")
    except BaseException:
        await single.aclose()
        raise
    if not info.get("cluster_enabled"):
        return single, False
    await single.aclose()
    with errors(url, "connect to the cluster"):  # e.g. a database other than 0
        cluster = make_client(url, True, **options)
    try:
        with errors(url, "connect to the cluster"):
            await cluster.initialize()
    except BaseException:
        await cluster.aclose()
        raise
    return cluster, True
