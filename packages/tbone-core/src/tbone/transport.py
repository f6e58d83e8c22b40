"""``Transport``: the contract of web-server adapters (tbone-sanic, tbone-aiohttp, ...).

A transport is thin: it mounts the API's routes on an application of its framework, turns each
framework request into a :class:`tbone.http.Request`, awaits ``api.handle(request)`` and writes
the :class:`tbone.http.Response` back unchanged; it wires the framework's start/stop to
``api.startup()`` / ``api.shutdown()``. Every HTTP semantic lives in core.

Transports are found through the ``tbone.transports`` entry-point group::

    [project.entry-points."tbone.transports"]
    sanic = "tbone_sanic:SanicTransport"
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .api import API

__all__ = ["Transport"]


class Transport(ABC):
    """Base class of transport adapters; subclasses declare ``tbone_plugin_api = 1``."""

    #: the name used with ``tbone serve --server NAME`` and ``api.mount(app, transport=NAME)``
    name: ClassVar[str]

    @classmethod
    @abstractmethod
    def can_mount(cls, app: object) -> bool:
        """Whether ``app`` is an application of this transport's framework.

        Must not import the framework just to answer: look at ``type(app).__module__``.
        """

    @abstractmethod
    def mount(self, api: API, app: Any) -> None:
        """Add the API's HTTP and WebSocket routes and lifespan hooks to ``app``."""

    @abstractmethod
    def serve(self, api: API, *, host: str = "127.0.0.1", port: int = 8000) -> None:
        """Create an application, mount ``api`` on it and run it until interrupted (blocking)."""

    def serving(
        self, api: API, *, host: str = "127.0.0.1", port: int = 0
    ) -> AbstractAsyncContextManager[tuple[str, int]]:
        """Serve ``api`` on the running loop inside ``async with``, yielding (host, port).

        Optional (the test kits use it); ``port=0`` picks a free port.
        """
        raise NotImplementedError(f"{type(self).__name__} does not support serving()")
