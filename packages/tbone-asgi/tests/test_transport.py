"""The ASGI transport beyond the kit: discovery, mounting, lazy lifespan, bad input, serve()."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from tbone import plugins
from tbone.storage import MemoryStore
from tbone.testing.servers import free_port
from tbone.testing.transport import LiveServer, build_api
from tbone.testing.transport.process import serve_and_stop, wait_for
from tbone_asgi import AsgiTransport, asgi_app

uvicorn = pytest.importorskip("uvicorn", reason="NOT RUN: uvicorn is not installed")
Message = dict[str, Any]


def test_found_through_the_entry_point() -> None:
    assert plugins.load("transport", "asgi") is AsgiTransport
    assert AsgiTransport.name == "asgi"
    assert AsgiTransport().server == "uvicorn"
    with pytest.raises(ValueError, match="uvicorn or hypercorn"):
        AsgiTransport(server="gunicorn")


def test_can_mount_starlette_fastapi_and_litestar_apps() -> None:
    starlette = pytest.importorskip("starlette.applications")
    fastapi = pytest.importorskip("fastapi")
    litestar = pytest.importorskip("litestar")
    assert AsgiTransport.can_mount(starlette.Starlette())
    assert AsgiTransport.can_mount(fastapi.FastAPI())
    assert AsgiTransport.can_mount(litestar.Litestar())
    assert not AsgiTransport.can_mount(object())
    assert not AsgiTransport.can_mount(asgi_app(build_api()))


def test_importing_and_asking_imports_no_framework_or_server() -> None:
    code = (
        "import sys, tbone_asgi, tbone_asgi.django; "
        "tbone_asgi.AsgiTransport.can_mount(object()); "
        "hosts = {'uvicorn', 'hypercorn', 'starlette', 'litestar', 'django'}; "
        "print(sorted(hosts & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@asynccontextmanager
async def _uvicorn(app: Any, lifespan: str = "on") -> AsyncIterator[str]:
    """A real uvicorn serving ``app`` on the test's loop, on a free loopback port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan=lifespan, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


class CountingStore(MemoryStore):
    opened = 0

    async def open(self) -> None:
        type(self).opened += 1
        await asyncio.sleep(0.05)  # long enough for concurrent first requests to overlap
        await super().open()


async def test_without_lifespan_events_the_stores_open_once_on_first_use() -> None:
    CountingStore.opened = 0
    api = build_api(CountingStore())
    tbone = asgi_app(api)
    async with _uvicorn(tbone, lifespan="off") as url, httpx.AsyncClient(base_url=url) as http:
        assert not api.started  # no lifespan event came
        answers = await asyncio.gather(*(http.get("/api/books") for _ in range(10)))
        assert [a.status_code for a in answers] == [200] * 10
        assert api.started
        assert CountingStore.opened == 1
    await tbone.shutdown()  # what the host's shutdown hook calls
    assert not api.started
    late = Conversation({"type": "http.request", "body": b""})  # still in flight at shutdown
    await tbone(_http_scope("GET", "/api/books"), late.receive, late.send)
    assert late.sent[0]["status"] == 503
    assert not api.started  # not reopened behind the host's back


async def test_api_mount_on_litestar_starlette_and_fastapi_runs_their_lifespan() -> None:
    litestar = pytest.importorskip("litestar")
    starlette = pytest.importorskip("starlette.applications")
    fastapi = pytest.importorskip("fastapi")
    for app in (litestar.Litestar(), starlette.Starlette(), fastapi.FastAPI()):
        api = build_api()
        api.mount(app)  # the asgi transport, found by can_mount
        async with _uvicorn(app) as url, httpx.AsyncClient(base_url=url) as http:
            assert api.started
            made = await http.post("/api/books", json={"title": "T", "author": "A"})
            assert made.status_code == 201, made.text
            assert made.headers["location"].startswith("/api/books/")
            assert (await http.get("/api")).json()["resources"]["books"] == "/api/books"
            assert (await http.get("/elsewhere")).status_code == 404
        assert not api.started


# -- ASGI messages as a server would never send them: the application stays sane -----------


class Conversation:
    """Feeds an ASGI application a fixed list of messages and records what it sends."""

    def __init__(self, *incoming: Message) -> None:
        self.incoming = list(incoming)
        self.sent: list[Message] = []
        self.read = 0

    async def receive(self) -> Message:
        self.read += 1
        if not self.incoming:
            await asyncio.sleep(3600)  # a server with nothing more to say keeps the call waiting
        return self.incoming.pop(0)

    async def send(self, message: Message) -> None:
        self.sent.append(message)


def _http_scope(method: str, path: str, headers: list[tuple[bytes, bytes]] = ()) -> Message:  # type: ignore[assignment]
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": list(headers),
    }


JSON = [(b"content-type", b"application/json")]


async def test_a_disconnect_mid_body_ends_the_request_without_an_answer() -> None:
    api = build_api()
    tbone = asgi_app(api)
    talk = Conversation(
        {"type": "http.request", "body": b'{"title": "Half', "more_body": True},
        {"type": "http.disconnect"},
        {"type": "http.request", "body": b'", "author": "A"}'},  # after the disconnect: ignored
    )
    await asyncio.wait_for(
        tbone(_http_scope("POST", "/api/books", JSON), talk.receive, talk.send), 5
    )
    assert talk.sent == []
    assert await api.resource("books").collection.count() == 0
    await tbone.shutdown()


async def test_messages_after_the_body_are_never_read() -> None:
    api = build_api()
    tbone = asgi_app(api)
    talk = Conversation(
        {"type": "http.request", "body": b'{"title": "T", ', "more_body": True},
        {"type": "http.request", "body": b"", "more_body": True},  # empty chunks are not the end
        {"type": "http.request", "body": b'"author": "A"}', "more_body": False},
        {"type": "http.request", "body": b"garbage after the end"},
        {"type": "http.disconnect"},
    )
    await asyncio.wait_for(
        tbone(_http_scope("POST", "/api/books", JSON), talk.receive, talk.send), 5
    )
    assert [m["type"] for m in talk.sent] == ["http.response.start", "http.response.body"]
    assert talk.sent[0]["status"] == 201
    assert talk.read == 3
    await tbone.shutdown()


async def test_an_oversized_body_is_answered_413_and_dropped_not_kept() -> None:
    api = build_api(max_body_size=100)
    tbone = asgi_app(api)
    chunks = [{"type": "http.request", "body": b"x" * 60, "more_body": True} for _ in range(50)]
    talk = Conversation(*chunks, {"type": "http.request", "body": b"", "more_body": False})
    await asyncio.wait_for(
        tbone(_http_scope("POST", "/api/books", JSON), talk.receive, talk.send), 5
    )
    assert talk.sent[0]["status"] == 413
    assert talk.sent[-1] == {"type": "http.response.body", "body": b""}
    assert talk.read == 51  # read to the end (so the client can read the answer) ...
    declared = [(b"content-length", b"1000000"), (b"expect", b"100-continue"), *JSON]
    talk = Conversation({"type": "http.request", "body": b"never sent"})
    await tbone(_http_scope("POST", "/api/books", declared), talk.receive, talk.send)
    assert (talk.sent[0]["status"], talk.read) == (413, 0)  # ... unless the client waits for us
    await tbone.shutdown()


async def test_websocket_scopes_that_end_early_or_miss_the_endpoint() -> None:
    api = build_api()
    tbone = asgi_app(api)
    ws = {"type": "websocket", "path": "/api/ws", "raw_path": b"/api/ws", "headers": []}
    talk = Conversation({"type": "websocket.disconnect", "code": 1006})
    await tbone(ws, talk.receive, talk.send)
    assert talk.sent == []  # gone before the handshake: nothing to answer
    elsewhere = {**ws, "path": "/api/books", "raw_path": b"/api/books"}
    talk = Conversation({"type": "websocket.connect"})
    await tbone(elsewhere, talk.receive, talk.send)
    assert talk.sent == [{"type": "websocket.close", "code": 1008}]  # a 403 to the handshake
    talk = Conversation(
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": '{"type": "ping"}'},
        {"type": "websocket.disconnect", "code": 1000},
    )
    await asyncio.wait_for(tbone(ws, talk.receive, talk.send), 5)
    assert talk.sent[0] == {"type": "websocket.accept"}  # no subprotocol offered, none chosen
    assert not api.hub.sessions
    with pytest.raises(ValueError, match="cannot serve an ASGI 'webtransport' scope"):
        await tbone({"type": "webtransport"}, talk.receive, talk.send)
    await tbone.shutdown()


async def test_a_failing_startup_is_reported_by_lifespan_and_serving() -> None:
    class Broken(MemoryStore):
        async def open(self) -> None:
            raise ConnectionRefusedError("no database here")

    tbone = asgi_app(build_api(Broken()))
    talk = Conversation({"type": "lifespan.startup"})
    await tbone({"type": "lifespan"}, talk.receive, talk.send)
    assert talk.sent[0]["type"] == "lifespan.startup.failed"
    assert "no database here" in talk.sent[0]["message"]
    for server in AsgiTransport.servers:
        pytest.importorskip(server)
        with pytest.raises(RuntimeError, match="did not start"):
            async with AsgiTransport(server=server).serving(build_api(Broken())):
                pass


# -- real clients that go away --------------------------------------------------------------


@pytest.mark.parametrize("server", ["uvicorn", "hypercorn"])
def test_clients_that_disconnect_mid_request_leave_nothing_behind(
    server: str, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip(server)
    api = build_api()
    with caplog.at_level(logging.WARNING), LiveServer(AsgiTransport(server=server), api) as live:
        for partial in (
            b"POST /api/books HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n" + b'{"title": "half',
            b'POST /api/books HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"ti',
            b"GET /api/books HTTP/1.1\r\nHost: x\r\n",  # headers never finished
            b"GET /api/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        ):
            for _ in range(20):
                with socket.create_connection((live.host, live.port)) as raw:
                    raw.sendall(partial)
        deadline = time.monotonic() + 10
        while api.hub.sessions and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not api.hub.sessions  # every half-open WebSocket ended its session
        listed = httpx.get(f"{live.url}/api/books", timeout=10)
        assert (listed.status_code, listed.json()["meta"]["total_count"]) == (200, 0)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


# -- serve() and the CLI --------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="sends signals")
@pytest.mark.parametrize(
    ("server", "sig"), [("uvicorn", signal.SIGINT), ("hypercorn", signal.SIGTERM)]
)
def test_serve_runs_until_interrupted(server: str, sig: signal.Signals) -> None:
    pytest.importorskip(server)
    served = serve_and_stop(
        f"from tbone_asgi import AsgiTransport; AsgiTransport(server={server!r})", sig=sig
    )
    assert served.first.status_code == 200
    assert served.stopped_cleanly, served


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_tbone_serve_with_hypercorn(tmp_path: Any) -> None:
    pytest.importorskip("hypercorn")
    (tmp_path / "app.py").write_text(
        "from tbone.testing.transport import build_api\napi = build_api()\n"
    )
    port = free_port()
    command = [sys.executable, "-m", "tbone", "serve", "app:api", "--server", "hypercorn"]
    proc = subprocess.Popen(
        [*command, "--port", str(port)], cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    try:
        response = wait_for(f"http://127.0.0.1:{port}/api/books")
        assert (response.status_code, response.headers["server"]) == (200, "hypercorn-h11")
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert "with asgi (hypercorn)" in out
