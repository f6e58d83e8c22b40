"""The bookstore demo and ``tbone serve`` / ``tbone routes`` on it, as real processes.

Each server runs in a subprocess on a free loopback port with its SQLite file in a temporary
directory, is queried over HTTP, and is stopped the way a user stops it (Ctrl-C is SIGINT, a
service manager sends SIGTERM); it must exit 0.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tbone import plugins

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "bookstore.py"
TBONE = [sys.executable, "-m", "tbone.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Run:
    """A server process; ``output`` and ``returncode`` are set once it has stopped."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.output = ""
        self.returncode: int | None = None


@contextmanager
def running(
    command: list[str], port: int, cwd: Path, stop: signal.Signals = signal.SIGINT
) -> Iterator[Run]:
    """Start ``command``, wait until it answers on ``port``, stop it with ``stop`` after."""
    env = {**os.environ, "BOOKSTORE_DB": str(cwd / "served.db"), "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        run = Run(proc)
        try:
            wait_until_listening(proc, port)
            yield run
        finally:
            if proc.poll() is None:
                proc.send_signal(stop)
            try:
                run.output, _ = proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                run.output, _ = proc.communicate()
                pytest.fail(f"{command} did not stop within 15 s of {stop.name}:\n{run.output}")
            run.returncode = proc.returncode


def wait_until_listening(proc: subprocess.Popen[str], port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output, _ = proc.communicate()
            pytest.fail(f"the server exited with {proc.returncode}:\n{output}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nothing listened on port {port} within {timeout} s")


def finish(run: Run) -> str:
    """Everything the process printed, once it has exited; it must have exited 0."""
    assert run.returncode == 0, f"exit code {run.returncode}:\n{run.output}"
    assert "Traceback" not in run.output, run.output
    return run.output


def test_routes_lists_the_demo_api() -> None:
    result = subprocess.run(
        [*TBONE, "routes", f"{DEMO}:api"], capture_output=True, text=True, timeout=60, check=True
    )
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0] == ["METHOD", "PATH", "RESOURCE", "ACTION"]
    assert ["GET,HEAD", "/api/books", "books", "list"] in rows
    assert ["PATCH", "/api/books/{id}", "books", "update"] in rows
    assert ["DELETE", "/api/authors/{slug}", "authors", "delete"] in rows
    assert ["GET", "/api/ws", "-", "websocket", "(tbone.v1)"] in rows
    assert not list(ROOT.glob("examples/*.db")), "listing routes must not open the store"


@pytest.mark.timeout(90)
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("server", ["aiohttp", "sanic"])
def test_serve_runs_the_demo_api_until_stopped(
    server: str, stop: signal.Signals, tmp_path: Path
) -> None:
    port = free_port()
    command = [*TBONE, "serve", f"{DEMO}:api", "--server", server, "--port", str(port)]
    with running(command, port, tmp_path, stop) as run:
        base = f"http://127.0.0.1:{port}/api"
        created = httpx.post(
            f"{base}/authors", json={"slug": "jemisin", "name": "N. K. Jemisin"}, timeout=10
        )
        assert created.status_code == 201, created.text
        book = {"title": "The Fifth Season", "author_id": "jemisin", "year": 2015}
        assert httpx.post(f"{base}/books", json=book, timeout=10).status_code == 201
        listed = httpx.get(f"{base}/books", params={"author_id": "jemisin"}, timeout=10).json()
        assert [b["title"] for b in listed["objects"]] == ["The Fifth Season"]
        script = httpx.get(f"{base}/tbone.js", timeout=10)
        assert "export function connect" in script.text
    output = finish(run)
    assert f"on http://127.0.0.1:{port}/api with {server}" in output
    assert (tmp_path / "served.db").exists()


@pytest.mark.timeout(90)
def test_the_demo_serves_its_page_and_seeds_once(tmp_path: Path) -> None:
    db = tmp_path / "books.db"
    for run in range(2):  # a second start finds the books and does not add them again
        port = free_port()
        command = [sys.executable, str(DEMO), "--port", str(port), "--db", str(db)]
        with running(command, port, tmp_path) as run:
            page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
            assert page.status_code == 200
            assert 'from "/api/tbone.js"' in page.text
            books = httpx.get(f"http://127.0.0.1:{port}/api/books", timeout=10).json()
            assert books["meta"]["total_count"] == 4, f"run {run}"
            dune = httpx.get(
                f"http://127.0.0.1:{port}/api/books", params={"q": "dune"}, timeout=10
            ).json()["objects"][0]
            assert dune["publication"]["publisher"] == "Chilton Books"
            assert dune["rating"] == 4.5
            bad = httpx.post(
                f"http://127.0.0.1:{port}/api/books", json={"title": "", "year": -1}, timeout=10
            )
            assert bad.status_code == 422
            assert {e["loc"][0] for e in bad.json()["errors"]} == {"title", "year", "author_id"}
        output = finish(run)
        assert f"TBone bookstore on http://127.0.0.1:{port}/" in output


@pytest.mark.timeout(90)
def test_the_demo_runs_on_mongodb_with_one_flag(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if "mongodb" not in {info.name for info in plugins.available("backend")}:
        pytest.skip("tbone-mongo is not installed")
    server = request.getfixturevalue("mongo_server")
    url = f"{server.url.rstrip('/')}/bookstore_demo"
    port = free_port()
    command = [sys.executable, str(DEMO), "--port", str(port), "--store", url]
    with running(command, port, tmp_path) as run:
        books = httpx.get(f"http://127.0.0.1:{port}/api/books", timeout=10).json()
        assert books["meta"]["total_count"] == 4
        made = httpx.post(
            f"http://127.0.0.1:{port}/api/books",
            json={"title": "Kindred", "author_id": "butler", "year": 1979},
            timeout=10,
        )
        assert made.status_code == 201, made.text
    output = finish(run)
    assert f"data in {url}" in output
