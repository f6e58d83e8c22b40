"""Soak tests: a real ``tbone serve`` process per adapter, measured through ``/proc``.

The server runs in its own process so that its resident memory (``VmRSS``, and the peak,
``VmHWM``) is the server's alone, not the test client's. It serves ``soak_api.py`` (one
resource on the memory store, default realtime limits) on a free loopback port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ADAPTERS = ("aiohttp", "sanic")
API_TARGET = f"{Path(__file__).with_name('soak_api.py')}:make_api"
#: for the test modules: /proc is Linux's; under CI (Linux) the tests always run
ON_LINUX = pytest.mark.skipif(
    sys.platform != "linux" and not os.environ.get("CI"), reason="reads /proc/<pid>/status"
)


class SoakServer:
    """One ``tbone serve`` process serving the soak API with ``adapter``."""

    def __init__(self, adapter: str, log: Path) -> None:
        self.adapter = adapter
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/api/ws"
        self._log_path = log
        self._log = log.open("w")
        code = "import sys; from tbone.cli import main; sys.exit(main())"
        args = ["serve", API_TARGET, "--server", adapter, "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.url + "/api/entries").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"{self.adapter} did not come up:\n{self.log()}")
            time.sleep(0.1)

    def status_kb(self, key: str) -> int:
        """A memory figure of the server from ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM``), KiB."""
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        raise AssertionError(f"no {key} in /proc/{self.proc.pid}/status")

    def rss_kb(self) -> int:
        return self.status_kb("VmRSS")

    def stop(self) -> int:
        """Stop with SIGINT (Ctrl-C), as a user would; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def log(self) -> str:
        """What the server printed (stdout and stderr)."""
        return self._log_path.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(params=ADAPTERS)
def soak_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SoakServer]:
    server = SoakServer(request.param, tmp_path / "server.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
