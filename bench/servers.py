"""What the benches that measure a server in a process of its own share: start it on a free
port, wait until it answers, stop it; and run a clients script that prints its latencies."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(
    command: list[str], what: str, probe: str = "/api/books", stop_wait: float = 15
) -> Iterator[tuple[int, int]]:
    """Run ``command + [port]`` until the block ends, once ``GET probe`` answers on that port;
    yields ``(port, pid)``."""
    port = free_port()
    proc = subprocess.Popen(
        [*command, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"the {what} server did not start") from None
                time.sleep(0.2)
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(stop_wait)
        except subprocess.TimeoutExpired:
            proc.kill()


def client_latencies(script: Path, *args: object, timeout: float = 900) -> list[list[float]]:
    """Run ``script clients ARGS...`` and read the latencies (one list per round) it prints
    as ``{"latencies": [...]}``."""
    out = subprocess.run(
        [sys.executable, str(script), "clients", *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
        timeout=timeout,
    ).stdout
    latencies: list[list[float]] = json.loads(out)["latencies"]
    return latencies
