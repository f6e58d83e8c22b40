"""What the throwaway servers of the test fixtures share: Redis, Redis Cluster, MongoDB and the
live transport servers are each started by a ``with`` block, on a free loopback port, and
stopped by its end.

Nothing here imports pytest or a driver, so that a server module can be used from a script.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

__all__ = ["Throwaway", "free_port", "terminate", "wait_until"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    ready: Callable[[], bool],
    process: subprocess.Popen[Any] | None,
    *,
    timeout: float,
    exited: Callable[[int], Exception],
    late: Callable[[], Exception],
    interval: float = 0.02,
) -> None:
    """Poll ``ready()`` until it is true; raise ``exited(status)`` if ``process`` ends first,
    ``late()`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        status = process.poll() if process is not None else None
        if status is not None:
            raise exited(status)
        if time.monotonic() > deadline:
            raise late()
        time.sleep(interval)


def terminate(process: subprocess.Popen[Any] | None, *, kill: bool = False) -> None:
    """End ``process`` (SIGTERM, or SIGKILL with ``kill``), killing it if it lingers."""
    if process is None or process.poll() is not None:
        return
    if kill:
        process.kill()
    else:
        process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class Throwaway:
    """A server a test starts and throws away: ``with Server(...) as server:`` starts it and
    closes it. Subclasses give :meth:`start`, :meth:`stop`, ``can_restart`` and
    :meth:`cannot_restart`; :meth:`close` is :meth:`stop` unless there is more to clean."""

    @property
    def can_restart(self) -> bool:
        return True

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.stop()

    def cannot_restart(self) -> Exception:
        """The error :meth:`restart` raises for a server it did not start."""
        return RuntimeError(f"{type(self).__name__} cannot restart a server it did not start")

    def restart(self) -> None:
        """Stop and start again on the same port: every client connection is dropped."""
        if not self.can_restart:
            raise self.cannot_restart()
        self.stop()
        self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
