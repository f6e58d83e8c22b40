"""A transport's ``serve()`` in a process of its own: it comes up, answers, and ends cleanly on
the signal a process manager sends (the test every adapter package runs).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import attrs
import httpx

from ..servers import free_port, terminate

__all__ = ["Served", "serve_and_stop", "wait_for"]


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
