"""tbone.js, the browser client, run by Node's test runner against a real server of each adapter.

The script under test is the one the server serves at ``/api/tbone.js``. Node ≥ 22 has a global
``WebSocket``; Node 20.10+ has it behind ``--experimental-websocket``; nothing is installed from
npm. Without a suitable Node the test skips, loudly, and fails under CI (``CI`` set).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest

from tbone import API, BearerToken, Context, IsAuthenticated, Model, Q, Resource, field
from tbone.realtime import Limits
from tbone.testing.transport import LiveServer

HERE = Path(__file__).parent
TOKENS = {"alice-token": "alice", "bob-token": "bob"}


class Book(Model):
    title: str = field(min_length=1)
    author: str
    year: int | None = None
    cost: float = field(default=0.0, private=True)


class BookResource(Resource[Book]):
    model = Book
    name = "books"
    filter_fields = {"author": ["exact", "in"]}
    order_fields = ["year", "title"]


class Note(Model):
    text: str
    owner: str = field(default="", read_only=True)


class NoteResource(Resource[Note]):
    model = Note
    name = "notes"
    permissions = (IsAuthenticated(),)

    def scope(self, ctx: Context) -> Q | None:
        return None if ctx.trusted else Q(owner=ctx.user)

    async def before_create(self, ctx: Context, data: dict[str, Any]) -> None:
        data["owner"] = ctx.user


class Slow(Model):
    text: str = ""


class SlowResource(Resource[Slow]):
    """Answers lists after 3 s: what request timeouts are tested against."""

    model = Slow
    name = "slow"

    async def before_list(self, ctx: Context, query: Any) -> None:
        await asyncio.sleep(3)


def build_api() -> API:
    # A short idle timeout lets the suite see keep-alive pings work and the server's idle close.
    # Two tracked objects per subscription: past them a re-check after an auth frame answers
    # resync, which live views must follow.
    limits = Limits(idle_timeout=1.5, tracked_objects=2)
    api = API(authenticator=BearerToken(TOKENS), realtime=limits)
    for resource in (BookResource, NoteResource, SlowResource):
        api.register(resource)
    return api


@cache
def node_command() -> list[str] | None:
    """``node`` plus the flag it needs for a global WebSocket, or None if it has none."""
    node = shutil.which("node")
    if node is None:
        return None
    probe = "process.stdout.write(typeof WebSocket)"
    for flags in ([], ["--experimental-websocket"]):
        result = subprocess.run(
            [node, *flags, "-e", probe], capture_output=True, text=True, timeout=30, check=False
        )
        if result.stdout == "function":
            return [node, *flags]
    return None


def require_node() -> list[str]:
    command = node_command()
    if command is None:
        reason = "tbone.js tests need Node.js >= 20.10 (global WebSocket) on PATH"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must provide it")
        pytest.skip(f"NOT RUN (tbone.js suite): {reason}")
    return command


@pytest.mark.timeout(180)
@pytest.mark.parametrize("client_transport", ["auto", "sse"])
@pytest.mark.parametrize("transport", ["aiohttp", "sanic", "uvicorn"])
def test_tbone_js_against_a_live_server(
    transport: str, client_transport: str, tmp_path: Path
) -> None:
    node = require_node()
    server_transport: Any = transport
    if transport == "uvicorn":
        from tbone_asgi import AsgiTransport

        server_transport = AsgiTransport(server="uvicorn")
    with LiveServer(server_transport, build_api()) as server:
        script = httpx.get(f"{server.url}/api/tbone.js", timeout=10)
        assert script.status_code == 200
        assert script.headers["content-type"].startswith("text/javascript")
        module = tmp_path / "tbone.mjs"  # .mjs: Node loads it as an ES module
        module.write_bytes(script.content)
        env = {
            **os.environ,
            "TBONE_URL": server.url,
            "TBONE_JS": module.as_uri(),
            "TBONE_TRANSPORT": client_transport,  # sse: the whole suite over the fallback
        }
        result = subprocess.run(
            [*node, "--test", "--test-reporter=spec", str(HERE / "tbone.test.mjs")],
            capture_output=True,
            text=True,
            env=env,
            timeout=160,
            check=False,
        )
        leftover = _sessions_left(server)
    assert result.returncode == 0, f"node --test failed:\n{result.stdout}\n{result.stderr}"
    assert "fail 0" in result.stdout, result.stdout
    assert leftover == (0, 0), (
        f"(stream sessions, sessions) left after every client closed: {leftover}"
    )


def _sessions_left(server: LiveServer, wait: float = 10.0) -> tuple[int, int]:
    """Sessions still open on the server, once they had ``wait`` seconds to end: a closed
    fallback client ends its session (DELETE) instead of letting it wait to expire."""

    async def count() -> tuple[int, int]:
        return len(server.api.streams), len(server.api.hub.sessions)

    async def settle() -> tuple[int, int]:
        deadline = asyncio.get_running_loop().time() + wait
        while (found := await server.call(count)) != (0, 0):
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.1)
        return found

    return asyncio.run(settle())
