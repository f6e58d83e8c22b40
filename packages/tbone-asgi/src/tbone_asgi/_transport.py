"""The ASGI transport: mount a TBone API in Starlette, FastAPI or Litestar, or serve it.

No framework or server is imported until an app is mounted or served, so asking every installed
transport whether it ``can_mount`` some app imports none of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from tbone.transport import Transport

from . import _servers
from ._app import asgi_app

if TYPE_CHECKING:
    from tbone.api import API

__all__ = ["AsgiTransport"]

_HOSTS = {("starlette", "Starlette"): "starlette", ("litestar", "Litestar"): "litestar"}


class AsgiTransport(Transport):
    """Serves a TBone API over ASGI 3: ``api.mount(starlette_or_litestar_app)`` or ``tbone serve
    --server uvicorn`` (or ``hypercorn``); for any other host, :func:`tbone_asgi.asgi_app`.

    Mounting adds the API's ASGI application at ``api.prefix`` and wires the host's lifespan
    to the API's (Starlette and FastAPI: its lifespan context; Litestar: ``on_startup`` and
    ``on_shutdown``). ``server`` picks what :meth:`serve` and :meth:`serving` run.
    """

    tbone_plugin_api = 1
    name: ClassVar[str] = "asgi"
    #: the names ``tbone serve --server`` also accepts for this transport
    servers: ClassVar[tuple[str, ...]] = _servers.SERVERS

    def __init__(self, server: str = "uvicorn") -> None:
        if server not in self.servers:
            raise ValueError(f"unknown ASGI server {server!r}; choose {' or '.join(self.servers)}")
        self.server = server

    @classmethod
    def can_mount(cls, app: object) -> bool:
        return _host(app) is not None

    def mount(self, api: API, app: Any) -> None:
        host = _host(app)
        if host == "starlette":
            _mount_starlette(api, app)
        elif host == "litestar":
            _mount_litestar(api, app)
        else:
            raise TypeError(
                f"cannot mount on a {type(app).__qualname__}; serve tbone_asgi.asgi_app(api) "
                "from it (Django: tbone_asgi.django.dispatcher(api))"
            )

    def serve(self, api: API, *, host: str = "127.0.0.1", port: int = 8000) -> None:
        _servers.run(self.server, asgi_app(api), host, port)

    @asynccontextmanager
    async def serving(
        self, api: API, *, host: str = "127.0.0.1", port: int = 0
    ) -> AsyncIterator[tuple[str, int]]:
        """Serve ``api`` on the running loop until the block exits; yields (host, port).

        ``port=0`` picks a free port. Lifespan events run on entry and exit, like ``serve()``.
        """
        async with _servers.running(self.server, asgi_app(api), host, port) as address:
            yield address


def _host(app: object) -> str | None:
    for klass in type(app).__mro__:
        found = _HOSTS.get((klass.__module__.partition(".")[0], klass.__name__))
        if found is not None:
            return found
    return None


def _mount_starlette(api: API, app: Any) -> None:
    from starlette.routing import Mount, Route

    asgi = asgi_app(api)
    if api.prefix:  # Mount matches below the prefix; the prefix itself is the API's index
        app.router.routes.append(Route(api.prefix, endpoint=asgi))
    app.router.routes.append(Mount(api.prefix, app=asgi))
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(host: Any) -> AsyncIterator[Any]:
        async with outer(host) as state, asgi.lifespan():
            yield state

    app.router.lifespan_context = lifespan


def _mount_litestar(api: API, app: Any) -> None:
    from litestar import asgi as asgi_handler

    asgi = asgi_app(api)

    async def tbone(scope: Any, receive: Any, send: Any) -> None:
        await asgi(scope, receive, send)

    app.register(asgi_handler(api.prefix or "/", is_mount=True, copy_scope=True)(tbone))
    app.on_startup.append(asgi.startup)
    app.on_shutdown.append(asgi.shutdown)
