"""Run a real server of any transport on a free loopback port, in a thread of its own.

The server gets its own event loop, so a test's loop (and its scope) never matters, and a test
talks to it only over real sockets, the way a client would::

    with LiveServer("sanic", api) as server:
        httpx.get(server.url + "/api/books")

A transport takes part by providing ``serving(api, *, host, port)``: an async context manager
that serves ``api`` on the running loop, runs its lifespan on entry and exit, and yields the
``(host, port)`` it listens on (``port=0`` meaning "pick a free one").
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, Self, TypeVar

from tbone import plugins

from ..servers import Throwaway

__all__ = ["LiveServer", "ServingTransport"]

T = TypeVar("T")


class ServingTransport(Protocol):
    """What the kit needs of a transport beyond :class:`tbone.transport.Transport`."""

    name: str

    def serving(
        self, api: Any, *, host: str = ..., port: int = ...
    ) -> AbstractAsyncContextManager[tuple[str, int]]: ...


class LiveServer(Throwaway):
    """A real server of ``transport`` serving ``api``, started by :meth:`start`.

    ``transport`` is a transport name (looked up in :mod:`tbone.plugins`), class or instance.
    :meth:`stop` shuts it down cleanly (the API's shutdown runs) and re-raises anything the
    server thread raised, so a broken lifespan fails the test that used it.
    """

    def __init__(self, transport: str | type | ServingTransport, api: Any, *, timeout: float = 15):
        self.transport: ServingTransport = _instance(transport)
        self.api = api
        self.timeout = timeout
        self.host = "127.0.0.1"
        self.port = 0
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"tbone-{self.transport.name}-server", daemon=True
        )

    @property
    def can_restart(self) -> bool:
        return False  # one thread, one run: start a new LiveServer instead

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://127.0.0.1:PORT{prefix}/ws``: the API's WebSocket endpoint."""
        return f"ws://{self.host}:{self.port}{self.api.prefix}/ws"

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``fn()`` on the server's event loop, where the API and its sessions live.

        For what a test does "from Python" on a running server::

            await server.call(lambda: server.api.resource("books").create({...}))
        """
        if self._loop is None:
            raise RuntimeError("the server is not running")

        async def run() -> T:
            return await fn()

        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(run(), self._loop))

    def start(self) -> Self:
        self._thread.start()
        if not self._ready.wait(self.timeout):
            raise TimeoutError(f"the {self.transport.name} server did not start in {self.timeout}s")
        self._raise_error()
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(self.timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the {self.transport.name} server did not stop in {self.timeout}s")
        self._raise_error()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # handed to the test's thread by start()/stop()
            self._error = exc
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with self.transport.serving(self.api, host=self.host, port=0) as (host, port):
            self.host, self.port = host, port
            self._ready.set()
            await self._stop.wait()

    def _raise_error(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise RuntimeError(f"the {self.transport.name} server failed: {error!r}") from error


def _instance(transport: str | type | ServingTransport) -> ServingTransport:
    if isinstance(transport, str):
        transport = plugins.load("transport", transport)
    if isinstance(transport, type):
        transport = transport()
    if not callable(getattr(transport, "serving", None)):
        raise TypeError(
            f"{transport!r} has no serving(api, host=..., port=...) async context manager; "
            "the transport kit needs one to start a real server"
        )
    return transport  # type: ignore[return-value] # checked just above
