"""Servers in processes of their own: a transport's ``serve()`` that comes up, answers and ends
cleanly on the signal a process manager sends (the test every adapter package runs), and
:class:`ServeProcess`, one ``tbone serve`` of a module (the multi-process tests run several).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import attrs
import httpx

from ..servers import free_port, terminate

__all__ = ["ServeProcess", "Served", "serve_and_stop", "wait_for"]


@attrs.frozen
class Served:
    """How a served process answered and ended."""

    first: httpx.Response  # the answer to GET /api/books once it was up
    returncode: int
    out: str
    err: str

    @property
    def stopped_cleanly(self) -> bool:
        """It exited 0 after the API's shutdown ran (``api.started`` false again)."""
        return self.returncode == 0 and "stopped cleanly, started = False" in self.out


def wait_for(url: str, *, timeout: float = 30) -> httpx.Response:
    """GET ``url`` until something answers (``AssertionError`` after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url)
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"nothing answered {url} in {timeout:g} s"
            time.sleep(0.1)


def serve_and_stop(
    transport: str, *, sig: signal.Signals = signal.SIGINT, timeout: float = 30
) -> Served:
    """Run ``transport.serve(build_api(), ...)`` in a new Python process, where ``transport``
    is the code of a transport instance (``"SanicTransport()"``, imported by ``imports``
    lines before it: ``"from tbone_sanic import SanicTransport; SanicTransport()"``); once it
    answers, send ``sig`` and wait for it to end."""
    imports, _, expression = transport.rpartition(";")
    port = free_port()
    script = textwrap.dedent(f"""
        from tbone.testing.transport import build_api
        {imports.strip()}
        api = build_api()
        ({expression.strip()}).serve(api, host="127.0.0.1", port={port})
        print("stopped cleanly, started =", api.started)
    """)
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        first = wait_for(f"http://127.0.0.1:{port}/api/books", timeout=timeout)
        process.send_signal(sig)
        out, err = process.communicate(timeout=timeout)
    finally:
        terminate(process)
    return Served(first, process.returncode, out, err)


class ServeProcess:
    """One ``tbone serve MODULE:ATTRIBUTE --server SERVER`` process on a free port, with
    ``env`` added to its environment; :meth:`stop` sends SIGINT, as Ctrl-C would."""

    def __init__(
        self, module: Path, server: str, env: dict[str, str], attribute: str = "make_api"
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/api/ws"
        code = "import sys; from tbone.cli import main; sys.exit(main())"
        args = ["serve", f"{module}:{attribute}", "--server", server, "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        """Until ``GET /api/books`` answers 200 (``AssertionError`` with its stderr if not)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.url + "/api/books").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                _, err = self.proc.communicate()
                raise AssertionError(f"the server on port {self.port} did not come up:\n{err}")
            time.sleep(0.1)

    def stop(self) -> tuple[int, str]:
        """SIGINT, then wait; its exit status and stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err
