"""The Sanic transport: mount a TBone API on a ``sanic.Sanic`` app, or serve one.

Sanic is imported only when an app is mounted or served, so that asking every installed
transport whether it ``can_mount`` some app never imports Sanic.
"""

from __future__ import annotations

import itertools
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from tbone.transport import Transport

if TYPE_CHECKING:
    from sanic import Sanic

    from tbone.api import API

__all__ = ["SanicTransport"]

# Every method Sanic's router accepts; core answers 405 with ``Allow`` for those it does not serve.
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_mounts = itertools.count(1)


class SanicTransport(Transport):
    """Serves a TBone API on Sanic: ``api.mount(Sanic("books"))`` or ``tbone serve --server sanic``.

    Every request under ``api.prefix`` goes to ``api.handle()`` unchanged (raw path and query
    string, every header, the body) and its response is written back byte for byte. Stores open
    in ``before_server_start`` and close in ``after_server_stop``, in every worker.

    ``{prefix}/ws`` is the WebSocket endpoint (subprotocol ``tbone.v1``): the handshake becomes
    the session's request, text and binary messages go to ``session.receive()``, messages over
    ``api.limits.max_frame_bytes`` close the socket with 1009 (``WEBSOCKET_MAX_SIZE`` is raised
    to it if lower). ``before_server_stop`` closes every socket with 1001.
    """

    tbone_plugin_api = 1
    name: ClassVar[str] = "sanic"

    @classmethod
    def can_mount(cls, app: object) -> bool:
        return any(
            klass.__name__ == "Sanic" and klass.__module__.partition(".")[0] == "sanic"
            for klass in type(app).__mro__
        )

    def mount(self, api: API, app: Sanic[Any, Any]) -> None:
        from ._bridge import make_handler, make_ws_handler, route_unknown_methods

        handler = make_handler(api)

        # Sanic only hands the body over in chunks to handlers marked as streaming; that is what
        # lets the size limit apply before a huge body is read (and lifts Sanic's own limit).
        tag = next(_mounts)
        uris = [api.prefix or "/", f"{api.prefix}/<rest:path>"]
        for index, uri in enumerate(uris):
            app.add_route(
                handler,
                uri,
                methods=_METHODS,
                name=f"tbone_{tag}_{index}",
                stream=True,
                strict_slashes=False,
                unquote=False,
            )
        route_unknown_methods(app, api)
        app.add_route(make_ws_handler(api, handler), f"{api.prefix}/ws", name=f"tbone_{tag}_ws")
        app.enable_websocket()
        # The session enforces the API's limit exactly; Sanic's must not be lower.
        app.config.WEBSOCKET_MAX_SIZE = max(
            app.config.WEBSOCKET_MAX_SIZE, api.limits.max_frame_bytes
        )
        app.register_listener(_lifespan(api.startup), "before_server_start")
        # Shutdown listeners run last-registered first: this one before Sanic cancels the
        # WebSocket handlers (registered by enable_websocket above).
        app.register_listener(_lifespan(api.stopping), "before_server_stop")
        app.register_listener(_lifespan(api.shutdown), "after_server_stop")

    def serve(self, api: API, *, host: str = "127.0.0.1", port: int = 8000) -> None:
        app = _new_app()
        self.mount(api, app)
        try:
            app.run(host=host, port=port, single_process=True, access_log=False, motd=False)
        finally:
            if api.started:
                # Sanic skips its stop listeners when a signal lands in a narrow window of its
                # start-up; the stores must be closed (and files flushed) all the same.
                import asyncio

                asyncio.run(api.shutdown())

    @asynccontextmanager
    async def serving(
        self, api: API, *, host: str = "127.0.0.1", port: int = 0
    ) -> AsyncIterator[tuple[str, int]]:
        """Serve ``api`` on the running event loop until the block exits; yields (host, port).

        ``port=0`` picks a free port. Lifespan hooks run on entry and exit, like ``serve()``.
        """
        from sanic import Sanic

        app = _new_app()
        # TouchUp rewrites Sanic's HTTP class in place, once per process; with several apps
        # started in one process (tests) the second rewrite fails, so leave the class alone.
        app.config.TOUCHUP = False
        self.mount(api, app)
        # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on accepted sockets that say TCP
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(100)
            # Any: Sanic's AsyncioServer is untyped.
            server: Any = await app.create_server(sock=sock, access_log=False)
            if server is None:  # pragma: no cover - create_server always returns one when awaited
                raise RuntimeError("Sanic did not create a server")
            await server.startup()
            await server.before_start()
            try:
                await server.after_start()
                await server.start_serving()
                yield sock.getsockname()[:2]
            finally:
                await server.before_stop()
                for connection in list(server.connections):
                    connection.close_if_idle()
                closing = server.close()
                if closing is not None:
                    await closing
                await server.after_stop()
        finally:
            sock.close()
            Sanic.unregister_app(app)


def _new_app() -> Sanic[Any, Any]:
    from sanic import Sanic

    app: Sanic[Any, Any] = Sanic(f"tbone_{uuid.uuid4().hex}", configure_logging=False)
    app.config.ACCESS_LOG = False
    app.config.MOTD = False
    app.config.NOISY_EXCEPTIONS = False
    return app


def _lifespan(step: Any) -> Any:
    async def listener(app: Any) -> None:
        await step()

    return listener
