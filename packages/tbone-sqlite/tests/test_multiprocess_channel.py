"""Two ``tbone serve`` processes on one SQLite file share live events through ``sqlite://``.

Process A serves on aiohttp and process B on Sanic, both with the store *and* the channel
``sqlite:///same.db``: no server besides them. A WebSocket client on each hears every write,
whichever process it went through, and a client that drops resumes on the other process.
"""

from __future__ import annotations

import asyncio
import json
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from tbone import plugins
from tbone.testing.transport.process import ServeProcess as Worker

pytestmark = [
    pytest.mark.skipif(
        not {"aiohttp", "sanic"} <= {info.name for info in plugins.available("transport")},
        reason="needs tbone-aiohttp and tbone-sanic",
    ),
    pytest.mark.skipif(os.name != "posix", reason="stops the servers with SIGINT"),
    pytest.mark.timeout(120),
]

API_MODULE = """
import os

from tbone import API
from tbone.testing.transport.app import AuthorResource, BookResource


def make_api() -> API:
    url = os.environ["TBONE_DB"]
    api = API(prefix="/api", stores=url, channel=url)
    api.register(BookResource)
    api.register(AuthorResource)
    return api
"""


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[tuple[Worker, Worker]]:
    module = tmp_path / "shared_api.py"
    module.write_text(textwrap.dedent(API_MODULE))
    env = {"TBONE_DB": f"sqlite:///{tmp_path / 'same.db'}"}
    a = Worker(module, "aiohttp", env)
    b = Worker(module, "sanic", env)
    try:
        a.wait_ready()
        b.wait_ready()
        yield a, b
    finally:
        for worker in (a, b):
            worker.stop()


async def _frame(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
    return frame


async def _subscribe(ws: ClientConnection, **extra: Any) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "subscribe", "id": 1, "resource": "books", **extra}))
    answer = await _frame(ws)
    assert answer["type"] == "subscribed", answer
    return answer


async def _crud_events(writer: Worker, listeners: list[ClientConnection]) -> None:
    async with httpx.AsyncClient(base_url=writer.url) as http:
        made = await http.post("/api/books", json={"title": "Dune", "author": "Herbert"})
        assert made.status_code == 201, made.text
        pk = made.json()["id"]
        seqs = set()
        for ws in listeners:
            event = await _frame(ws)
            assert (event["event"], event["pk"], event["data"]) == ("created", pk, made.json())
            seqs.add(event["seq"])
        assert len(seqs) == 1  # one position, whichever process delivered it
        changed = await http.patch(f"/api/books/{pk}", json={"year": 1965})
        for ws in listeners:
            event = await _frame(ws)
            assert (event["event"], event["data"]) == ("updated", changed.json())
        assert (await http.delete(f"/api/books/{pk}")).status_code == 204
        for ws in listeners:
            event = await _frame(ws)
            assert (event["event"], event["pk"]) == ("deleted", pk)


def test_events_cross_processes_through_the_sqlite_file(workers: tuple[Worker, Worker]) -> None:
    a, b = workers

    async def scenario() -> None:
        async with (
            connect(b.ws_url, subprotocols=["tbone.v1"]) as on_b,
            connect(a.ws_url, subprotocols=["tbone.v1"]) as on_a,
        ):
            await _subscribe(on_b)
            await _subscribe(on_a)
            await _crud_events(a, [on_b, on_a])  # writes through A, heard on B (and A)
            await _crud_events(b, [on_a, on_b])  # and the other way round

    asyncio.run(scenario())


def test_a_client_resumes_on_the_other_process(workers: tuple[Worker, Worker]) -> None:
    a, b = workers

    async def scenario() -> None:
        async with httpx.AsyncClient() as http:
            async with connect(a.ws_url, subprotocols=["tbone.v1"]) as on_a:
                await _subscribe(on_a)
                made = await http.post(a.url + "/api/books", json={"title": "D", "author": "H"})
                seq = (await _frame(on_a))["seq"]
            # the socket dropped; meanwhile B is written to
            pk = made.json()["id"]
            changed = await http.patch(f"{b.url}/api/books/{pk}", json={"year": 1965})
            async with connect(b.ws_url, subprotocols=["tbone.v1"]) as on_b:
                answer = await _subscribe(on_b, after=seq)
                assert "resync" not in answer
                missed = await _frame(on_b)
                assert (missed["event"], missed["data"]) == ("updated", changed.json())

    asyncio.run(scenario())
