"""Running the API's ASGI application under uvicorn or hypercorn, each imported when used.

Both get the socket already bound (so ``port=0`` works and the port is known), a WebSocket
message limit (uvicorn: the API's frame limit; over it it closes with 1009), and ``api.stopping()``
before they start closing connections, so TBone's sockets close with 1001 and not with the
server's own code.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ._app import TBoneASGI

__all__ = ["SERVERS", "run", "running"]

SERVERS = ("uvicorn", "hypercorn")
Stop = Callable[[], Awaitable[Any]]


def run(server: str, app: TBoneASGI, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM (blocking); returns normally after either."""
    sock = _bind(host, port)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await _serve(server, app, sock, stop.wait)

    with asyncio.Runner(loop_factory=_loop_factory(server)) as runner:
        runner.run(main())
    if app.startup_error is not None:
        raise app.startup_error


@contextlib.asynccontextmanager
async def running(
    server: str, app: TBoneASGI, host: str, port: int
) -> AsyncIterator[tuple[str, int]]:
    """Serve on the running loop inside the block; yields the (host, port) bound."""
    sock = _bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    stop = asyncio.Event()
    task = asyncio.create_task(_serve(server, app, sock, stop.wait))
    ready = asyncio.create_task(app.ready.wait())
    try:
        await asyncio.wait([task, ready], return_when=asyncio.FIRST_COMPLETED)
    finally:
        ready.cancel()
    if app.startup_error is not None or task.done():
        with contextlib.suppress(Exception):  # the server's own report of the same failure
            await task
        raise RuntimeError(f"the {server} server did not start") from app.startup_error
    try:
        yield bound_host, bound_port
    finally:
        stop.set()
        await task


async def _serve(server: str, app: TBoneASGI, sock: socket.socket, until: Stop) -> None:
    if server == "hypercorn":
        await _hypercorn(app, sock, until)
    else:
        await _uvicorn(app, sock, until)


async def _uvicorn(app: TBoneASGI, sock: socket.socket, until: Stop) -> None:
    uvicorn = _need("uvicorn")

    class Server(uvicorn.Server):  # type: ignore[misc,name-defined]  # uvicorn is imported here
        def capture_signals(self) -> contextlib.AbstractContextManager[None]:
            return contextlib.nullcontext()  # run() owns the signals; serving() has none

        async def startup(self, sockets: Any = None) -> None:
            try:
                await super().startup(sockets)
            except SystemExit:  # the lifespan failed; app.startup_error says why
                self.should_exit = True

        async def shutdown(self, sockets: Any = None) -> None:
            await app.api.stopping()  # before uvicorn closes the sockets with its own code
            await super().shutdown(sockets)

    config = uvicorn.Config(
        app,
        lifespan="on",
        log_level="warning",
        access_log=False,
        ws_max_size=app.api.limits.max_frame_bytes,
        timeout_graceful_shutdown=10,
    )
    server = Server(config)

    async def stop_when_told() -> None:
        await until()
        server.should_exit = True

    watcher = asyncio.create_task(stop_when_told())
    try:
        await server.serve(sockets=[sock])
    finally:
        watcher.cancel()
        sock.close()  # uvicorn closes it only if it started


async def _hypercorn(app: TBoneASGI, sock: socket.socket, until: Stop) -> None:
    _need("hypercorn")
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    async def stopping() -> None:
        await until()
        await app.api.stopping()  # before hypercorn closes the sockets

    config = Config()
    config.bind = [f"fd://{sock.detach()}"]  # hypercorn owns the bound socket from here
    # Not the frame limit: over its own limit hypercorn 0.18 sends 1009 but then stalls the
    # connection while the client is still sending; under this bound the session closes 1009.
    config.websocket_max_message_size = max(16 << 20, 16 * app.api.limits.max_frame_bytes)
    config.accesslog = None
    config.graceful_timeout = 10
    await serve(app, config, shutdown_trigger=stopping, mode="asgi")  # type: ignore[arg-type]  # an ASGI 3 callable


def _loop_factory(server: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop under uvicorn when it is installed, as ``uvicorn`` itself does (``--loop auto``)."""
    if server != "uvicorn":
        return None
    try:
        import uvloop  # optional: uvicorn[standard] installs it
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not 0: asyncio sets TCP_NODELAY only on accepted sockets whose proto
    # says TCP, and without it a response sent as start + body waits ~40 ms for a delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)  # connections queue from now on, while the server starts
    sock.setblocking(False)
    return sock


def _need(module: str) -> Any:
    # imported here, not at the top: the server is an optional dependency
    try:
        return importlib.import_module(module)
    except ImportError:
        raise RuntimeError(
            f"serving with {module} needs it installed: pip install 'tbone-asgi[{module}]'"
        ) from None
