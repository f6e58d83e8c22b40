"""Killing the MongoDB server: requests answer 503 problem+json, and recover by themselves."""

from __future__ import annotations

import time

import httpx
import pytest

from tbone import plugins
from tbone.testing.transport.app import build_api
from tbone.testing.transport.server import LiveServer
from tbone_mongo.testing import MongoServer, start_mongo_server

pytestmark = pytest.mark.skipif(
    "aiohttp" not in {info.name for info in plugins.available("transport")},
    reason="tbone-aiohttp is not installed",
)


@pytest.fixture
def own_server() -> MongoServer:
    server = start_mongo_server(own=True)  # this test kills it: never the session's server
    yield server  # type: ignore[misc]  # a generator fixture
    server.close()


def _until(check: object, seconds: float = 20.0) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        response = check()  # type: ignore[operator]
        if response.status_code < 500 or time.monotonic() > deadline:
            return response  # type: ignore[no-any-return]
        time.sleep(0.2)


@pytest.mark.timeout(120)
def test_kill_and_restart(own_server: MongoServer) -> None:
    url = own_server.database_url(serverSelectionTimeoutMS="500", connectTimeoutMS="500")
    with LiveServer("aiohttp", build_api(url)) as live, httpx.Client(base_url=live.url) as http:
        made = http.post("/api/books", json={"title": "Kindred", "author": "Butler"})
        assert made.status_code == 201, made.text
        location = made.headers["location"]

        own_server.stop()
        started = time.monotonic()
        down = http.get(location)
        assert down.status_code == 503, down.text
        assert down.headers["content-type"].startswith("application/problem+json")
        assert down.json()["status"] == 503
        assert time.monotonic() - started < 5, "a down server should answer 503 quickly"
        assert http.post("/api/books", json={"title": "x", "author": "y"}).status_code == 503

        own_server.start()
        back = _until(lambda: http.get(location))
        assert back.status_code == 200, back.text
        assert back.json()["title"] == "Kindred"  # committed data survived the kill
        again = http.post("/api/books", json={"title": "Fledgling", "author": "Butler"})
        assert again.status_code == 201, again.text
