"""``API``: resources on named stores, served over HTTP and WebSocket by any transport.

::

    api = API(prefix="/api", stores={"default": "sqlite:///books.db", "cache": "memory://"})
    api.register(BookResource)  # on store "default"
    api.register(SessionResource, store="cache")  # stores mix per resource
    api.mount(app)  # a Sanic app or an aiohttp Application

    async with api:  # or let the transport run the lifespan
        book = await api.resource("books").create({"title": "Dune", "author": "Herbert"})
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar

from . import plugins
from .channel import Channel, connect_channel
from .data import Model
from .data.ref import references_of
from .errors import PluginNotFound
from .http.body import encode_json, too_large
from .http.cors import CORS
from .http.handler import HTTPHandler
from .http.message import Request, Response
from .http.problem import PROBLEM_JSON, problem_body
from .jsontext import MAX_DEPTH
from .lifecycle import Lifecycle
from .realtime.fallback import StreamLimits, Streams
from .realtime.hub import EventHub
from .realtime.limits import Limits
from .realtime.session import Close, Send, Session
from .realtime.sse import EventStream
from .resources.auth import Authenticator, Permission
from .resources.resource import Defaults, Resource
from .storage.connect import connect
from .storage.params import QueryLimits
from .storage.store import Store

__all__ = ["API", "Event", "EventListener"]

log = logging.getLogger("tbone")

R = TypeVar("R", bound=type[Resource[Any]])
Event = Literal["created", "updated", "deleted"]
EventListener = Callable[[Resource[Any], Event, Model], Awaitable[None]]
_RESERVED_NAMES = frozenset({"openapi.json", "ws", "tbone.js", "_stream"})
WEBSOCKET_PATH = "ws"  # served at {prefix}/ws by every transport


class API(Lifecycle):
    """A set of resources on named stores, with one lifespan and one request handler."""

    def __init__(
        self,
        *,
        prefix: str = "/api",
        stores: Mapping[str, str | Store] | str | Store | None = None,
        channel: str | Channel = "memory://",
        event_topic: str | None = None,
        realtime: Limits | None = None,
        streams: StreamLimits | None = None,
        query_limits: QueryLimits | None = None,
        authenticator: Authenticator | None = None,
        permissions: Sequence[Permission] = (),
        cors: CORS | bool | None = None,
        max_body_size: int = 1 << 20,
        max_json_depth: int = MAX_DEPTH,
        title: str = "TBone API",
        version: str = "0.1.0",
    ) -> None:
        if prefix and not prefix.startswith("/"):
            raise ValueError(f"prefix must start with '/', got {prefix!r}")
        self.prefix = prefix.rstrip("/")
        self.stores: dict[str, Store] = {
            name: connect(store) for name, store in _named(stores).items()
        }
        self.authenticator = authenticator
        self.permissions: Sequence[Permission] = tuple(permissions)
        self.cors = CORS() if cors is True else (cors or None)
        self.max_body_size = max_body_size
        self.title = title
        self.version = version
        self.resources: dict[str, Resource[Any]] = {}
        self.listeners: list[EventListener] = []
        self.started = False
        self.defaults = Defaults(
            authenticator=authenticator,
            permissions=self.permissions,
            query_limits=query_limits or QueryLimits(),
            resource_for=self.resource_for,
            owner=self,
        )
        self.http = HTTPHandler(
            self.prefix,
            self.resources,
            max_body_size=max_body_size,
            max_json_depth=max_json_depth,
            cors=self.cors,
        )
        self.http.extras["openapi.json"] = self._openapi_response
        self.http.extras["tbone.js"] = _client_script
        self.limits = realtime or Limits()
        #: the WebSocket-less fallback at {prefix}/_stream (see tbone.realtime.fallback)
        self.streams = Streams(
            self.prefix,
            lambda request, send, close: self.open_session(request, send=send, close=close),
            limits=self.limits,
            options=streams,
            max_json_depth=max_json_depth,
            cors=self.cors,
        )
        # Processes serving one API share this topic; two different APIs on one broker need
        # different topics (the default is told apart by prefix only).
        topic = event_topic or f"tbone.events:{self.prefix or '/'}"
        self.hub = EventHub(self.resources, connect_channel(channel), topic)

    # -- configuration ---------------------------------------------------------------------------

    def register(self, resource: R, *, store: str = "default") -> R:
        """Serve ``resource`` from the named store; usable as a class decorator."""
        if self.started:
            raise RuntimeError("register resources before the API starts")
        resource.check_config()
        name = resource.name
        if name in self.resources or name in _RESERVED_NAMES or "/" in name or not name:
            raise ValueError(f"cannot register a resource named {name!r}: taken or reserved")
        if store not in self.stores:
            raise KeyError(f"no store named {store!r}; stores: {', '.join(self.stores)}")
        self.resources[name] = resource(
            self.stores[store], events=self.publish, defaults=self.defaults
        )
        return resource

    def resource(self, name: str) -> Resource[Any]:
        """The registered resource called ``name``, for calls from Python."""
        try:
            return self.resources[name]
        except KeyError:
            raise KeyError(
                f"no resource named {name!r}; registered: {', '.join(self.resources)}"
            ) from None

    def resource_for(self, model: type[Model]) -> Resource[Any] | None:
        """The resource serving ``model`` (the first registered), which ``Ref[model]`` fields
        are checked and expanded by; None when no resource serves it."""
        for resource in self.resources.values():
            if resource.model is model:
                return resource
        return None

    def on_event(self, listener: EventListener) -> EventListener:
        """Call ``listener(resource, event, obj)`` after every committed write."""
        self.listeners.append(listener)
        return listener

    # -- lifespan --------------------------------------------------------------------------------

    async def startup(self) -> None:
        """Open every store and prepare every collection (idempotent)."""
        if self.started:
            return
        self._check_references()
        opened: list[Store] = []
        try:
            for store in self.stores.values():
                await store.open()
                opened.append(store)
            for resource in self.resources.values():
                await resource.store.ensure_prepared(resource.collection.spec)
            await self.hub.start()
        except BaseException:
            for store in reversed(opened):
                await store.aclose()
            raise
        self.started = True

    def _check_references(self) -> None:
        """Every ``Ref[X]`` of a resource or an action's input needs a resource serving X."""
        for resource in self.resources.values():
            models = [(resource.model, type(resource).__name__)]
            models += [
                (a.input, f"{type(resource).__name__}.{a.name}")
                for a in resource.custom_actions.values()
                if a.input is not None
            ]
            for model, where in models:
                for ref in references_of(model).values():
                    if self.resource_for(ref.target) is None:
                        raise TypeError(
                            f"{where}: {model.__name__}.{ref.name} refers to "
                            f"{ref.target.__name__}, but no registered resource serves "
                            f"{ref.target.__name__}; register one"
                        )

    async def stopping(self) -> None:
        """The server has begun to stop: close every WebSocket with 1001, while the stores
        are still open. Transports call it first, because servers wait for open sockets
        before they run the shutdown (the three steps: ``startup``, ``stopping``,
        ``shutdown``)."""
        await self.hub.close_sessions()

    async def shutdown(self) -> None:
        """Close every store, in reverse order (idempotent)."""
        if not self.started:
            return
        self.started = False
        try:
            await self.hub.stop()
        except Exception:
            log.exception("stopping the event hub failed")
        for store in reversed(list(self.stores.values())):
            try:
                await store.aclose()
            except Exception:  # keep closing the others; report this one
                log.exception("closing a store failed")

    # ``async with api:`` runs the lifespan, like every other Lifecycle
    open = startup
    aclose = shutdown

    # -- serving ---------------------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        """Answer one HTTP request (transports call this); never raises for bad input."""
        if self.streams.owns(request.path):
            return await self.streams.handle(request)
        return await self.http.handle(request)

    async def open_stream(self, request: Request) -> Response | EventStream | None:
        """For a ``GET`` of the fallback's event stream, the stream to serve (transports run
        it: ``await stream.run(write, disconnected)``) or the refusal to send; None for every
        other request, which goes to :meth:`handle` as usual."""
        if request.method != "GET" or not self.streams.owns(request.path):
            return None  # most GETs: answered without another coroutine
        return await self.streams.open(request)

    def problem(self, status: int, detail: str, *, slug: str | None = None) -> Response:
        """An ``application/problem+json`` response, for transports' own refusals."""
        body = problem_body(status, detail, slug=slug)
        return Response(status, (("Content-Type", PROBLEM_JSON),), encode_json(body))

    def body_too_large(self) -> Response:
        """The 413 a transport sends when a body exceeds ``max_body_size`` before core reads
        it: the same document core sends for an oversized body it did receive."""
        return self.http.error_response(too_large(self.max_body_size))

    def mount(self, app: object, *, transport: str | None = None) -> None:
        """Serve this API from ``app`` through the transport plugin that can mount it."""
        transport_cls = plugins.load("transport", transport) if transport else _transport_for(app)
        transport_cls().mount(self, app)

    async def publish(
        self, resource: Resource[Any], event: Event, obj: Model, before: Model | None = None
    ) -> None:
        """Announce a committed write: to local listeners, then over the channel to every
        process's WebSocket subscribers (``before``: the object before an update, so that
        subscribers learn whether it entered or left their view). Failures are logged; the
        write stands."""
        for listener in self.listeners:
            try:
                await listener(resource, event, obj)
            except Exception:
                log.exception("an event listener failed for %s %s", resource.name, event)
        if self.started:
            await self.hub.publish(resource, event, obj, before)

    def open_session(self, request: Request, *, send: Send, close: Close) -> Session:
        """A WebSocket session for a transport (see :class:`tbone.realtime.Session`).

        ``request`` is the opening handshake (its headers and query carry credentials);
        ``send(text)`` writes one text frame; ``close(code, reason)`` closes the socket.
        """
        return Session(
            request,
            send,
            close,
            hub=self.hub,
            handler=self.http,
            resources=self.resources,
            authenticator=self.authenticator,
            limits=self.limits,
            owner=self,
        )

    # -- OpenAPI ---------------------------------------------------------------------------------

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document describing every registered resource."""
        from .openapi import build_openapi

        return build_openapi(self)

    def _openapi_response(self, request: Request) -> Response:
        return Response(200, (("Content-Type", "application/json"),), encode_json(self.openapi()))


def _client_script(request: Request) -> Response:
    from importlib.resources import files

    script = files("tbone.realtime").joinpath("tbone.js").read_bytes()
    headers = (("Content-Type", "text/javascript; charset=utf-8"), ("Cache-Control", "no-cache"))
    return Response(200, headers, script)


def _named(stores: Mapping[str, str | Store] | str | Store | None) -> dict[str, str | Store]:
    if stores is None:
        return {"default": "memory://"}
    if isinstance(stores, str | Store):
        return {"default": stores}
    return dict(stores)


def _transport_for(app: object) -> Any:
    names = [info.name for info in plugins.available("transport")]
    for name in names:
        candidate = plugins.load("transport", name)
        if candidate.can_mount(app):
            return candidate
    installed = ", ".join(names) or "none"
    raise PluginNotFound(
        f"no transport can mount a {type(app).__module__}.{type(app).__qualname__}; installed "
        f"transports: {installed}. Install one with: "
        'pip install "tbone-core[sanic]" or pip install "tbone-core[aiohttp]"'
    )
