"""pytest plugin (entry point ``pytest11: tbone_mongo``): a real MongoDB server for tests.

Fixtures:

- ``mongo_server`` (session): a started :class:`MongoServer`. Found as DESIGN §8 says:
  ``TBONE_TEST_MONGO_URL``, else ``mongod`` on ``PATH``, else SecantusDB (the ``secantusdb``
  test dependency). With none of them the test **fails** when the environment variable ``CI``
  is set, and is skipped with the reason otherwise.
- ``mongo_url``: a URL naming a fresh database on that server.

::

    async def test_books(mongo_url):
        async with tbone.connect(mongo_url) as store:
            ...

A test that kills the server uses its own ``MongoServer`` (see ``start_mongo_server``), so it
does not take the session's server down. Import-light on purpose: loading the plugin imports
neither pymongo nor tbone.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NoReturn

import pytest

from ._server import ENV_URL, MongoServer, MongoServerError, find_mongo_server

__all__ = [
    "ENV_URL",
    "MongoServer",
    "MongoServerError",
    "find_mongo_server",
    "mongo_server",
    "mongo_url",
    "skip_unless_restartable",
    "start_mongo_server",
]


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so a missing MongoDB is an error: {reason}", pytrace=False)
    pytest.skip(f"NO MONGODB, TEST NOT RUN: {reason}")


def start_mongo_server(*, own: bool = False) -> MongoServer:
    """A started server as the fixture finds it; fails (under ``CI``) or skips if there is none.

    ``own``: always start a new local server (never the external one), for tests that kill it.
    """
    try:
        server = MongoServer.from_environment()
        if own and not server.can_restart:
            found = find_mongo_server()
            if found is None:
                raise MongoServerError("no local MongoDB server to start (mongod or secantusdb)")
            server = MongoServer(*found)
        return server.start()
    except MongoServerError as exc:
        _unavailable(str(exc))


def skip_unless_restartable(server: MongoServer, prefix: str = "") -> None:
    """Skip, loudly, a test that must restart ``server`` when it is an external one."""
    if not server.can_restart:
        pytest.skip(
            f"{prefix}NEEDS A RESTARTABLE MONGODB, TEST NOT RUN: {ENV_URL} points at an external "
            "server the tests must not restart"
        )


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[MongoServer]:
    """A real MongoDB server for the whole session (see the module docstring)."""
    server = start_mongo_server()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def mongo_url(mongo_server: MongoServer) -> str:
    """A URL naming a fresh database on the session's server."""
    return mongo_server.database_url()
