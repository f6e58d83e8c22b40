"""The aiohttp transport beyond the kit: discovery, mounting on a user's app, serve()."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web

from tbone import plugins
from tbone.testing.transport import build_api
from tbone.testing.transport.process import serve_and_stop
from tbone_aiohttp import AiohttpTransport


def test_found_through_the_entry_point() -> None:
    assert plugins.load("transport", "aiohttp") is AiohttpTransport
    assert AiohttpTransport.name == "aiohttp"


def test_can_mount_only_aiohttp_applications() -> None:
    assert AiohttpTransport.can_mount(web.Application())
    assert not AiohttpTransport.can_mount(object())
    assert not AiohttpTransport.can_mount(web.Response())


def test_importing_and_asking_does_not_import_aiohttp() -> None:
    code = "import sys, tbone_aiohttp; tbone_aiohttp.AiohttpTransport.can_mount(object()); "
    code += "print('aiohttp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def _serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def test_mounts_beside_the_apps_own_routes_with_lifespan() -> None:
    app = web.Application()

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    app.router.add_get("/hello", hello)
    api = build_api()
    other = build_api(prefix="/v2")  # a second API under another prefix
    api.mount(app)  # found through the registry
    AiohttpTransport().mount(other, app)
    async for url in _serve(app):
        assert api.started
        assert other.started
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/hello")).text == "hello"
            assert (await client.get("/api/books")).status_code == 200
            assert (
                await client.post("/v2/books", json={"title": "T", "author": "A"})
            ).status_code == 201
            assert (await client.get("/api/books")).json()["meta"]["total_count"] == 0
            assert (await client.get("/v2/books")).json()["meta"]["total_count"] == 1
            assert (await client.get("/elsewhere")).status_code == 404  # the app's own 404
    assert not api.started
    assert not other.started


async def test_empty_prefix_serves_from_the_root() -> None:
    api = build_api(prefix="")
    app = web.Application()
    api.mount(app, transport="aiohttp")
    async for url in _serve(app):
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/")).json()["resources"]["books"] == "/books"
            assert (await client.get("/books/")).status_code == 200


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_serve_runs_until_interrupted() -> None:
    served = serve_and_stop("from tbone_aiohttp import AiohttpTransport; AiohttpTransport()")
    assert served.first.status_code == 200
    assert served.stopped_cleanly, served
