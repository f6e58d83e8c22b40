"""The Sanic transport beyond the kit: discovery, mounting on a user's app, serve()."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sanic import Sanic
from sanic.request import Request as SanicRequest
from sanic.response import HTTPResponse, text

from tbone import plugins
from tbone.testing.transport import build_api
from tbone.testing.transport.process import serve_and_stop
from tbone_sanic import SanicTransport


def _app() -> Sanic[Any, Any]:
    app: Sanic[Any, Any] = Sanic(f"test_{uuid.uuid4().hex}", configure_logging=False)
    app.config.TOUCHUP = False  # several apps start in this process
    return app


def test_found_through_the_entry_point() -> None:
    assert plugins.load("transport", "sanic") is SanicTransport
    assert SanicTransport.name == "sanic"


def test_can_mount_only_sanic_apps() -> None:
    class MyApp(Sanic):  # type: ignore[type-arg] # plain subclass, as users write it
        pass

    app, mine = _app(), MyApp(f"test_{uuid.uuid4().hex}")
    try:
        assert SanicTransport.can_mount(app)
        assert SanicTransport.can_mount(mine)
        assert not SanicTransport.can_mount(object())
    finally:
        Sanic.unregister_app(app)
        Sanic.unregister_app(mine)


def test_importing_and_asking_does_not_import_sanic() -> None:
    code = "import sys, tbone_sanic; tbone_sanic.SanicTransport.can_mount(object()); "
    code += "print('sanic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def _serve(app: Sanic[Any, Any]) -> AsyncIterator[str]:
    """Run a user's app with Sanic's own low-level server API."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    server: Any = await app.create_server(sock=sock, access_log=False)
    await server.startup()
    await server.before_start()
    await server.start_serving()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()
        sock.close()
        Sanic.unregister_app(app)


async def test_mounts_beside_the_apps_own_routes_with_lifespan() -> None:
    app = _app()

    @app.get("/hello")
    async def hello(request: SanicRequest) -> HTTPResponse:
        return text("hello")

    api = build_api()
    other = build_api(prefix="/v2")  # a second API under another prefix
    api.mount(app)  # found through the registry
    SanicTransport().mount(other, app)
    async for url in _serve(app):
        assert api.started
        assert other.started
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/hello")).text == "hello"
            assert (await client.get("/api/books")).status_code == 200
            created = await client.post("/v2/books", json={"title": "T", "author": "A"})
            assert created.status_code == 201
            assert (await client.get("/api/books")).json()["meta"]["total_count"] == 0
            assert (await client.get("/v2/books")).json()["meta"]["total_count"] == 1
            assert (await client.get("/elsewhere")).status_code == 404  # the app's own 404
            own = await client.request("PROPFIND", "/hello")  # Sanic's own 405 outside the API
            assert own.status_code == 405
            assert own.headers["content-type"].startswith("text/plain")
            ours = await client.request("PROPFIND", "/v2/books")
            assert ours.status_code == 405
            assert ours.headers["content-type"] == "application/problem+json"
    assert not api.started
    assert not other.started


async def test_empty_prefix_serves_from_the_root() -> None:
    api = build_api(prefix="")
    app = _app()
    api.mount(app, transport="sanic")
    async for url in _serve(app):
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/")).json()["resources"]["books"] == "/books"
            assert (await client.get("/books/")).status_code == 200


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_serve_runs_until_interrupted() -> None:
    served = serve_and_stop("from tbone_sanic import SanicTransport; SanicTransport()")
    assert served.first.status_code == 200
    assert served.stopped_cleanly, served
    assert "Sanic v" not in served.out + served.err  # no banner
