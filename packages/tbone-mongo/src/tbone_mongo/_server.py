"""``MongoServer``: a throwaway MongoDB server for tests, on a free loopback port.

Where the server comes from, in order (DESIGN §8):

1. ``TBONE_TEST_MONGO_URL``: an external server the tests use as it is (and cannot restart);
2. ``mongod`` on ``PATH``, started as a one-node replica set (change streams, transactions);
3. SecantusDB (PyPI ``secantusdb``, a test dependency of this repository): its daemon, run as
   ``python -m secantus``, which presents a one-node replica set too.

Nothing here imports pytest or the async driver; ``tbone_mongo.testing`` wraps it in fixtures.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Final, Literal, Self

from tbone.testing.servers import Throwaway, free_port, terminate, wait_until

__all__ = ["ENV_URL", "MongoServer", "MongoServerError", "find_mongo_server"]

ENV_URL: Final = "TBONE_TEST_MONGO_URL"
STARTUP_TIMEOUT: Final = 30.0
Kind = Literal["external", "mongod", "secantus"]


class MongoServerError(RuntimeError):
    """No MongoDB server could be found or started, or it cannot do what was asked."""


def find_mongo_server() -> tuple[Kind, str] | None:
    """``("mongod", path)`` for a ``mongod`` on ``PATH``, else ``("secantus", python)`` when
    SecantusDB is installed, else ``None``."""
    mongod = shutil.which("mongod")
    if mongod:
        return "mongod", mongod
    if importlib.util.find_spec("secantus") is not None:
        return "secantus", sys.executable
    return None


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class MongoServer(Throwaway):
    """A MongoDB server on ``127.0.0.1`` (``mongod`` or SecantusDB), or an external one.

    ``url`` has no database; :meth:`database_url` adds a fresh one. ``stop()`` stops the
    process, ``start()`` starts it again on the same
    port and data directory, so clients must reconnect and committed data must survive.
    (``stop(kill=True)`` sends SIGKILL.)
    """

    def __init__(self, kind: Kind, program: str | None = None, *, url: str | None = None) -> None:
        self.kind = kind
        self.program = program
        self._external_url = url
        self.port = 0
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Path | None = None

    @classmethod
    def from_environment(cls) -> MongoServer:
        url = os.environ.get(ENV_URL)
        if url:
            return cls("external", url=url)
        found = find_mongo_server()
        if found is None:
            raise MongoServerError(
                f"no MongoDB server: set {ENV_URL}, put mongod on PATH, or "
                "pip install secantusdb==0.7.0b3 (the test dependency)"
            )
        return cls(*found)

    @property
    def can_restart(self) -> bool:
        return self.kind != "external"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def url(self) -> str:
        if self._external_url is not None:
            return self._external_url
        query = "?directConnection=true" if self.kind == "mongod" else ""
        return f"mongodb://127.0.0.1:{self.port}/{query}"

    def database_url(self, name: str | None = None, **options: str) -> str:
        """The server's URL naming database ``name`` (a fresh ``t_<hex>`` one by default)."""
        base, _, query = self.url.partition("?")
        base = base.rstrip("/") + "/" + (name or f"t_{uuid.uuid4().hex[:12]}")
        pairs = [p for p in query.split("&") if p] + [f"{k}={v}" for k, v in options.items()]
        return base + ("?" + "&".join(pairs) if pairs else "")

    # -- process -----------------------------------------------------------------------------

    def start(self) -> Self:
        if not self.can_restart:
            return self
        if self.running:
            return self
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="tbone-mongo-")
            self.port = free_port()
        data = Path(self._dir.name) / "data"
        data.mkdir(exist_ok=True)
        self._log = Path(self._dir.name) / "server.log"
        with self._log.open("ab") as log:
            self._proc = subprocess.Popen(self._command(data), stdout=log, stderr=log)
        self._wait_until_up()
        if self.kind == "mongod":
            self._initiate()
        return self

    def _command(self, data: Path) -> list[str]:
        assert self.program is not None
        port = str(self.port)
        if self.kind == "mongod":
            return [self.program, "--port", port, "--bind_ip", "127.0.0.1", "--dbpath",
                    str(data), "--replSet", "tbone", "--quiet"]  # fmt: skip
        return [self.program, "-m", "secantus", "--host", "127.0.0.1", "--port", port,
                "--storage-path", str(data), "--log-level", "WARNING"]  # fmt: skip

    def _wait_until_up(self) -> None:
        def late() -> Exception:
            self.stop()
            return MongoServerError(f"{self.kind} did not listen within {STARTUP_TIMEOUT}s")

        wait_until(
            lambda: _accepts(self.port),
            self._proc,
            timeout=STARTUP_TIMEOUT,
            exited=lambda _: MongoServerError(f"{self.kind} exited at start: {self._log_tail()}"),
            late=late,
            interval=0.05,
        )

    def _initiate(self) -> None:
        from pymongo import MongoClient  # sync: fixtures run outside event loops
        from pymongo.errors import OperationFailure

        client: MongoClient[dict[str, object]] = MongoClient(self.url)
        try:
            try:
                client.admin.command(
                    "replSetInitiate",
                    {"_id": "tbone", "members": [{"_id": 0, "host": f"127.0.0.1:{self.port}"}]},
                )
            except OperationFailure as exc:
                if exc.code != 23:  # AlreadyInitialized (after a restart)
                    raise
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while not client.admin.command("hello").get("isWritablePrimary"):
                if time.monotonic() > deadline:
                    raise MongoServerError("mongod did not become primary")
                time.sleep(0.1)
        finally:
            client.close()

    def _log_tail(self) -> str:
        if self._log is None or not self._log.exists():
            return ""
        return self._log.read_text(errors="replace")[-2000:]

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server process (SIGTERM, or SIGKILL with ``kill``); it keeps its port and
        data for :meth:`start`. SecantusDB loses recent writes to SIGKILL unless it syncs every
        commit, as mongod without journaling would: the tests stop it cleanly."""
        proc, self._proc = self._proc, None
        terminate(proc, kill=kill)

    def cannot_restart(self) -> Exception:
        return MongoServerError(f"{ENV_URL} points at an external server: cannot restart it")

    def close(self) -> None:
        self.stop()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
