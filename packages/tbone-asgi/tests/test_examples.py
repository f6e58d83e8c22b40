"""examples/asgi_*.py: each mounting run as a user runs it (its own uvicorn process on loopback).

Each test checks the host's own routes still answer, TBone answers under /api over HTTP and
the WebSocket, and that Ctrl-C stops it cleanly with the stores closed (SQLite removes its
write-ahead log only when the last connection closes).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def needs(*modules: str) -> None:
    """Skip, loudly, when a host framework is missing (hatch-test installs them all)."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        reason = f"NOT RUN: {', '.join(missing)} not installed (pip install {' '.join(missing)})"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


class Example:
    def __init__(self, script: str, *args: str) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, str(EXAMPLES / script), "--port", str(self.port), *args]
        self.process = subprocess.Popen(
            command, cwd=EXAMPLES, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._wait_listening()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the example exited:\n{self.process.communicate()[0]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        pytest.fail("the example did not listen within 30 s")

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        try:
            output, _ = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
        assert self.process.returncode == 0, output
        return output


@pytest.fixture
def example(request: pytest.FixtureRequest) -> Iterator[type[Example]]:
    started: list[Example] = []

    class Started(Example):
        def __init__(self, script: str, *args: str) -> None:
            super().__init__(script, *args)
            started.append(self)

    yield Started
    for each in started:
        if each.process.poll() is None:
            each.process.kill()
            each.process.communicate()


async def _live_book(url: str, headers: dict[str, str] | None = None) -> None:
    """A book created over HTTP reaches a subscribed WebSocket; the socket's own request too."""
    ws_url = url.replace("http", "ws", 1) + "/api/ws"
    async with connect(ws_url, subprotocols=["tbone.v1"], additional_headers=headers) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "tbone.v1"
        await ws.send(json.dumps({"type": "subscribe", "id": 1, "resource": "books"}))
        assert json.loads(await ws.recv())["type"] == "subscribed"
        async with httpx.AsyncClient(base_url=url) as http:
            made = await http.post(
                "/api/books", json={"title": "Kindred", "author_id": "butler", "year": 1979}
            )
            assert made.status_code == 201, made.text
        event = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert (event["event"], event["data"]["title"]) == ("created", "Kindred")
        await ws.send(json.dumps({"type": "request", "id": 2, "path": "/api/books?limit=1"}))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert (answer["id"], answer["status"]) == (2, 200)


def _closed_cleanly(db: Path) -> None:
    assert db.exists()
    assert not Path(f"{db}-wal").exists(), "the SQLite store was not closed"


@pytest.mark.parametrize(
    ("script", "modules", "hello"),
    [
        ("asgi_fastapi.py", ("fastapi",), {"hello": "from FastAPI", "books": 4}),
        ("asgi_starlette.py", ("starlette",), {"hello": "from Starlette"}),
        ("asgi_litestar.py", ("litestar",), {"hello": "from Litestar"}),
    ],
)
async def test_mounted_in_a_framework(
    example: type[Example], tmp_path: Path, script: str, modules: tuple[str, ...], hello: object
) -> None:
    needs(*modules, "uvicorn")
    db = tmp_path / "books.db"
    app = example(script, "--db", str(db))
    async with httpx.AsyncClient(base_url=app.url, timeout=10) as http:
        assert (await http.get("/hello")).json() == hello  # the host's own route
        if script == "asgi_starlette.py":  # the only one that does not seed: add authors
            for slug in ("butler", "herbert"):
                made = await http.post("/api/authors", json={"slug": slug, "name": slug.title()})
                assert made.status_code == 201, made.text
        listed = await http.get("/api/authors")
        assert listed.status_code == 200
        assert "butler" in [a["slug"] for a in listed.json()["objects"]]
        assert (await http.get("/api/ws")).status_code == 426  # answered by TBone, not the host
        assert (await http.get("/api/nothing")).headers["content-type"] == (
            "application/problem+json"
        )
        await _live_book(app.url)
        assert (await http.get("/elsewhere")).status_code == 404  # the host's own 404
    app.stop()
    _closed_cleanly(db)


async def test_inside_django_with_its_session_user(example: type[Example], tmp_path: Path) -> None:
    needs("django", "uvicorn")
    app = example("asgi_django.py", "--data", str(tmp_path), "--user", "ada:lovelace-1815")
    async with httpx.AsyncClient(base_url=app.url, timeout=10) as http:
        refused = await http.get("/api/notes")
        assert refused.status_code == 401, refused.text  # anonymous
        assert (await http.get("/")).json() == {"django": True, "user": None}
        # Sign in through Django's own admin login form (CSRF token and all).
        form = await http.get("/admin/login/")
        assert form.status_code == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert token is not None
        signed_in = await http.post(
            "/admin/login/?next=/admin/",
            data={"username": "ada", "password": "lovelace-1815", "csrfmiddlewaretoken": token[1]},
            headers={"Referer": f"{app.url}/admin/login/"},
        )
        assert signed_in.status_code == 302, signed_in.text
        assert "sessionid" in http.cookies
        assert (await http.get("/")).json() == {"django": True, "user": "ada"}
        assert (await http.get("/admin/")).status_code == 200  # Django still serves its pages
        cookie = f"sessionid={http.cookies['sessionid']}"
        async with connect(
            app.url.replace("http", "ws", 1) + "/api/ws",
            additional_headers={"Cookie": cookie, "Origin": app.url},
        ) as ws:
            await ws.send(json.dumps({"type": "subscribe", "id": 1, "resource": "notes"}))
            assert json.loads(await ws.recv())["type"] == "subscribed"
            made = await http.post("/api/notes", json={"text": "analytical engine"})
            assert made.status_code == 201, made.text
            assert made.json()["owner"] == "ada"
            event = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert (event["event"], event["data"]["owner"]) == ("created", "ada")
        assert (await http.get("/api/notes")).json()["meta"]["total_count"] == 1
        # Another site's page cannot use the cookie (no CORS preflight guards a WebSocket).
        elsewhere = await http.get("/api/notes", headers={"Origin": "https://evil.example"})
        assert elsewhere.status_code == 401
        http.cookies.clear()
        assert (await http.get("/api/notes")).status_code == 401
        forged = await http.get("/api/notes", headers={"Cookie": "sessionid=forged"})
        assert forged.status_code == 401
    app.stop()
    _closed_cleanly(tmp_path / "tbone.db")
