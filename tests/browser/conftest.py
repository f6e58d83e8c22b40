"""Headless Chromium driven over the DevTools protocol, and the bookstore demo to point it at.

No browser is downloaded: the test uses the machine's ``chromium`` (Debian's package; ``.ci/run``
installs it). Without one the browser tests skip, loudly, and fail under CI (``CI`` set).
The DevTools client is a few lines over the ``websockets`` package (a test dependency).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[2]
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",  # Chromium picks a port and writes it to DevToolsActivePort
)


def find_chromium() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    reason = "no Chromium on PATH (install Debian's 'chromium' package)"
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run under CI: {reason}")
    pytest.skip(f"NOT RUN (browser tests): {reason}")


class Page:
    """One browser tab: ``evaluate()`` JavaScript, ``wait_for()`` a condition."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.errors: list[str] = []  # uncaught exceptions and console.error output
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        id_ = next(self._ids)
        answer = asyncio.get_running_loop().create_future()
        self._waiting[id_] = answer
        await self.socket.send(json.dumps({"id": id_, "method": method, "params": params}))
        reply = await asyncio.wait_for(answer, 15)
        if "error" in reply:
            raise RuntimeError(f"DevTools {method} failed: {reply['error']}")
        result: dict[str, Any] = reply["result"]
        return result

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, within: float = 10.0) -> Any:
        """Poll ``expression`` until it is truthy; fail with the page's errors if it never is."""
        deadline = time.monotonic() + within
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(
                    f"never true within {within} s: {expression}\npage errors: {self.errors}"
                )
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)
        await self.socket.close()

    async def _read(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            if "id" in message:
                future = self._waiting.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message)
            elif message.get("method") == "Runtime.exceptionThrown":
                self.errors.append(json.dumps(message["params"]["exceptionDetails"])[:500])
            elif (
                message.get("method") == "Runtime.consoleAPICalled"
                and message["params"]["type"] == "error"
            ):
                args = message["params"]["args"]
                self.errors.append(" ".join(str(a.get("value", a)) for a in args))


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    """A fresh headless Chromium with one blank tab, closed after the test."""
    binary = find_chromium()
    profile = tmp_path / "chromium-profile"
    # A plain Popen (not asyncio's) on purpose: starting a browser is quick, and the process
    # must be ended however the test's event loop fares.
    with subprocess.Popen(  # noqa: ASYNC220
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    ) as browser:
        try:
            port = await _devtools_port(profile / "DevToolsActivePort", browser)
            async with httpx.AsyncClient() as http:
                targets = (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
            url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            async with connect(url, max_size=None, open_timeout=15) as socket:
                tab = Page(socket)
                await tab.send("Runtime.enable")
                await tab.send("Page.enable")
                try:
                    yield tab
                finally:
                    await tab.close()
        finally:
            browser.terminate()
            try:
                browser.wait(10)
            except subprocess.TimeoutExpired:
                browser.kill()
            browser.communicate()


async def _devtools_port(path: Path, browser: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if browser.poll() is not None:
            _, err = browser.communicate()
            pytest.fail(f"Chromium exited with {browser.returncode}:\n{err.decode()[-2000:]}")
        # a tiny local file, polled: not worth a thread
        if path.exists() and (lines := path.read_text().splitlines()):  # noqa: ASYNC240
            return int(lines[0])
        await asyncio.sleep(0.1)
    pytest.fail("Chromium did not open its DevTools port within 30 s")


class Demo:
    """``python examples/bookstore.py`` on a fixed free port and database; restartable."""

    def __init__(self, db: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [
            sys.executable,
            str(ROOT / "examples" / "bookstore.py"),
            *("--port", str(self.port), "--db", str(db)),
        ]
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        _wait_listening(self.process, self.port)

    def stop(self) -> None:
        """Ctrl-C, as a user stops it; it must exit 0 (open WebSockets are closed with 1001)."""
        server, self.process = self.process, None
        if server is None:
            return
        server.send_signal(signal.SIGINT)
        try:
            output, _ = server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
        assert server.returncode == 0, output


@pytest.fixture
def bookstore(tmp_path: Path) -> Iterator[Demo]:
    """The demo, started with a fresh database; stopped after the test."""
    demo = Demo(tmp_path / "bookstore.db")
    demo.start()
    try:
        yield demo
    finally:
        demo.stop()


def _wait_listening(server: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.poll() is not None:
            output, _ = server.communicate()
            pytest.fail(f"the demo exited with {server.returncode}:\n{output}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"the demo did not listen on port {port} within 20 s")
