"""The aiohttp transport: mount a TBone API on an ``aiohttp.web.Application``, or serve one.

aiohttp is imported only when an app is mounted or served, so that asking every installed
transport whether it ``can_mount`` some app never imports aiohttp.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, ClassVar

from tbone.transport import Transport

if TYPE_CHECKING:
    from aiohttp import web

    from tbone.api import API

__all__ = ["AiohttpTransport"]


class AiohttpTransport(Transport):
    """Serves a TBone API on aiohttp: ``api.mount(web.Application())`` or ``tbone serve``.

    Every request under ``api.prefix`` goes to ``api.handle()`` unchanged (raw path and query
    string, every header, the body) and its response is written back byte for byte. Stores open
    in ``on_startup`` and close in ``on_cleanup``.

    ``{prefix}/ws`` is the WebSocket endpoint (subprotocol ``tbone.v1``): the handshake becomes
    the session's request, text and binary messages go to ``session.receive()``, messages over
    ``api.limits.max_frame_bytes`` close the socket with 1009. ``on_shutdown`` closes every
    socket with 1001 before aiohttp waits for open handlers.
    """

    tbone_plugin_api = 1
    name: ClassVar[str] = "aiohttp"

    @classmethod
    def can_mount(cls, app: object) -> bool:
        return any(
            klass.__name__ == "Application" and klass.__module__.partition(".")[0] == "aiohttp"
            for klass in type(app).__mro__
        )

    def mount(self, api: API, app: web.Application) -> None:
        from ._bridge import make_handler
        from ._ws import make_ws_handler

        handler = make_handler(api)
        # Before the catch-all, which would otherwise take the handshake.
        app.router.add_route("GET", f"{api.prefix}/ws", make_ws_handler(api, handler))
        app.router.add_route("*", f"{api.prefix}/{{tail:.*}}", handler)
        if api.prefix:
            app.router.add_route("*", api.prefix, handler)

        async def startup(_app: web.Application) -> None:
            await api.startup()

        async def stopping(_app: web.Application) -> None:
            await api.stopping()

        async def shutdown(_app: web.Application) -> None:
            await api.shutdown()

        app.on_startup.append(startup)
        app.on_shutdown.append(stopping)
        app.on_cleanup.append(shutdown)

    def serve(self, api: API, *, host: str = "127.0.0.1", port: int = 8000) -> None:
        from aiohttp import web

        app = web.Application()
        self.mount(api, app)
        web.run_app(app, host=host, port=port, access_log=None, print=None)

    @asynccontextmanager
    async def serving(
        self, api: API, *, host: str = "127.0.0.1", port: int = 0
    ) -> AsyncIterator[tuple[str, int]]:
        """Serve ``api`` on the running event loop until the block exits; yields (host, port).

        ``port=0`` picks a free port. Lifespan hooks run on entry and exit, like ``serve()``.
        """
        from aiohttp import web

        app = web.Application()
        self.mount(api, app)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
            sockets = runner.addresses
            bound_host, bound_port = sockets[0][:2]
            yield bound_host, bound_port
        finally:
            await runner.cleanup()
