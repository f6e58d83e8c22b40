"""Server processes on one SQLite file share live events: through one Redis channel, and
through the file itself (the demo's ``sqlite://`` channel, no server at all).

Process A serves on aiohttp and process B on Sanic, both started with ``tbone serve`` on the
same API module; a WebSocket client on each process hears every write, whichever process it
went through. The ``redis_server`` fixture (tbone-redis) starts a real redis-server; without
one that test fails under ``CI`` and is skipped, loudly, elsewhere. The demo
(``examples/demo.py``) and a ``tbone serve`` of it hear each other's writes with no server.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tbone import plugins
from tbone.testing.transport.process import ServeProcess as Worker

pytestmark = [
    pytest.mark.skipif(
        "sqlite" not in {info.name for info in plugins.available("backend")},
        reason="tbone-sqlite is not installed",
    ),
    pytest.mark.skipif(os.name != "posix", reason="stops the servers with SIGINT"),
    pytest.mark.timeout(120),
]

API_MODULE = """
import os

from tbone import API
from tbone.testing.transport.app import AuthorResource, BookResource


def make_api() -> API:
    api = API(prefix="/api", stores=os.environ["TBONE_DB"], channel=os.environ["TBONE_CHANNEL"])
    api.register(BookResource)
    api.register(AuthorResource)
    return api
"""


@pytest.fixture
def workers(tmp_path: Path, redis_server: Any) -> Iterator[tuple[Worker, Worker]]:
    module = tmp_path / "shared_api.py"
    module.write_text(textwrap.dedent(API_MODULE))
    env = {"TBONE_DB": f"sqlite:///{tmp_path / 'shared.db'}", "TBONE_CHANNEL": redis_server.url}
    a = Worker(module, "aiohttp", env)
    b = Worker(module, "sanic", env)
    try:
        a.wait_ready()
        b.wait_ready()
        yield a, b
    finally:
        for worker in (a, b):
            worker.stop()


async def _event(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert frame["type"] == "event", frame
    return frame


async def _subscribe(ws: ClientConnection) -> None:
    await ws.send(json.dumps({"type": "subscribe", "id": 1, "resource": "books"}))
    answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert isinstance(answer.pop("seq"), str)
    assert answer == {"type": "subscribed", "id": 1, "subscription": "s1"}


async def _crud_events(writer: Worker, listeners: list[ClientConnection]) -> None:
    async with httpx.AsyncClient(base_url=writer.url) as http:
        made = await http.post("/api/books", json={"title": "Dune", "author": "Herbert"})
        assert made.status_code == 201, made.text
        pk = made.json()["id"]
        for ws in listeners:
            event = await _event(ws)
            assert (event["event"], event["pk"], event["data"]) == ("created", pk, made.json())
        changed = await http.patch(f"/api/books/{pk}", json={"year": 1965})
        for ws in listeners:
            event = await _event(ws)
            assert (event["event"], event["data"]) == ("updated", changed.json())
        assert (await http.delete(f"/api/books/{pk}")).status_code == 204
        for ws in listeners:
            event = await _event(ws)
            assert (event["event"], event["pk"], event["data"]) == ("deleted", pk, changed.json())


def test_events_cross_processes_through_redis(workers: tuple[Worker, Worker]) -> None:
    a, b = workers

    async def scenario() -> None:
        async with connect(b.ws_url, subprotocols=["tbone.v1"]) as on_b:
            async with connect(a.ws_url, subprotocols=["tbone.v1"]) as on_a:
                await _subscribe(on_b)
                await _subscribe(on_a)
                await _crud_events(a, [on_b, on_a])  # writes through A, heard on B (and A)
                await _crud_events(b, [on_a, on_b])  # and the other way round
                # one SQLite file: what A wrote, B reads
                async with httpx.AsyncClient() as http:
                    made = await http.post(a.url + "/api/authors", json={"name": "Lem"})
                    assert made.status_code == 201
                    assert (await http.get(b.url + "/api/authors/Lem")).json() == made.json()
            # stopping B closes its sockets as going away, and B exits cleanly
            code, err = await asyncio.to_thread(b.stop)
            assert code == 0, err
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(on_b.recv(), 10)
            assert on_b.close_code == 1001

    asyncio.run(scenario())


DEMO = Path(__file__).parent.parent / "examples" / "demo.py"


def _demo(*args: str, db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(DEMO), "--db", str(db), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _watched(watcher: subprocess.Popen[str]) -> list[str]:
    """The event lines a ``--watch --for`` demo printed before it stopped."""
    out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    return [line for line in out.splitlines() if "seq=" in line]


def _watching(watcher: subprocess.Popen[str]) -> None:
    assert watcher.stdout is not None
    line = watcher.stdout.readline()  # printed once it is subscribed
    assert line.startswith("watching"), line + (watcher.stderr.read() if watcher.stderr else "")


@pytest.mark.skipif(
    "aiohttp" not in {info.name for info in plugins.available("transport")},
    reason="tbone-aiohttp is not installed",
)
def test_the_demo_and_tbone_serve_share_live_events_through_the_file(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    served = Worker(DEMO, "aiohttp", {"DEMO_DB": str(db)}, attribute="api")
    try:
        served.wait_ready()
        watcher = _demo("--watch", "--for", "4", db=db)
        _watching(watcher)
        book = {"title": "Dune", "author": {"name": "Frank Herbert"}, "year": 1965}
        made = httpx.post(served.url + "/api/books", json=book)
        assert made.status_code == 201, made.text
        (line,) = _watched(watcher)  # written through the served API, heard by the demo
        assert line.startswith(f"created  {made.json()['id']} 'Dune'"), line
        seq = line.rsplit("seq=", 1)[1]
        missed = httpx.post(served.url + "/api/books", json={**book, "title": "Emma"})
        assert missed.status_code == 201
        again = _demo("--watch", "--after", seq, "--for", "1", db=db)
        (replayed,) = _watched(again)  # what it missed while it was not watching
        assert replayed.startswith(f"created  {missed.json()['id']} 'Emma'"), replayed

        async def hear_the_tour() -> dict[str, Any]:
            async with connect(served.ws_url, subprotocols=["tbone.v1"]) as ws:
                await _subscribe(ws)
                tour = await asyncio.to_thread(_demo, db=db)
                event = await _event(ws)
                _, err = await asyncio.to_thread(tour.communicate, timeout=60)
                assert tour.returncode == 0, err
                return event

        event = asyncio.run(hear_the_tour())  # written by the demo, heard on the served API
        assert (event["event"], event["data"]["title"]) == ("created", "Kindred")
    finally:
        code, err = served.stop()
    assert code == 0, err
