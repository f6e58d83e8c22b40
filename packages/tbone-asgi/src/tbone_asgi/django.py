"""TBone inside a Django project: one ASGI application for both, and Django's signed-in user.

In the project's ``asgi.py``::

    from django.core.asgi import get_asgi_application

    django_app = get_asgi_application()  # first: it sets Django up

    from tbone_asgi.django import DjangoSession, dispatcher
    from myproject.api import api  # API(..., authenticator=DjangoSession())

    application = dispatcher(api, django_app)

Requests under ``api.prefix`` (HTTP and the WebSocket) go to TBone, the rest to Django. Django
serves no ``lifespan`` scope, so the dispatcher gives it to TBone: the stores open when the
server starts and close when it stops. Django is imported when these are used, never when
this module is imported (``pip install "tbone-asgi[django]"``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tbone.api import API
from tbone.http.message import Request

from ._app import Receive, Scope, Send, _target
from ._app import asgi_app as _asgi_app

__all__ = ["DjangoSession", "dispatcher"]


def dispatcher(api: API, django_app: Any = None) -> Any:
    """An ASGI application: ``api.prefix`` and below to TBone, every other path to Django.

    ``django_app`` defaults to ``django.core.asgi.get_asgi_application()``. WebSockets
    outside the prefix are refused (Django serves none).
    """
    if not api.prefix:
        raise ValueError("the API needs a prefix (such as '/api') to share paths with Django")
    if django_app is None:
        from django.core.asgi import get_asgi_application  # deferred: Django is optional

        django_app = get_asgi_application()
    tbone = _asgi_app(api)
    prefix = api.prefix

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        path = _target(scope)[0] if kind != "lifespan" else ""
        if kind == "lifespan" or path == prefix or path.startswith(prefix + "/"):
            await tbone(scope, receive, send)
        elif kind == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})  # a 403 to the handshake
        else:
            await django_app(scope, receive, send)

    application.tbone = tbone  # type: ignore[attr-defined]  # for tests and shutdown hooks
    return application


class DjangoSession:
    """Authenticator: the user signed in to Django whose session cookie the request carries.

    Reads the cookie named ``SESSION_COOKIE_NAME`` through ``SESSION_ENGINE`` and
    ``django.contrib.auth.get_user`` (so a changed password ends the session, as in Django),
    in a thread (``sync_to_async``), since Django's session and auth code is synchronous.
    ``ctx.user`` is the Django user; anonymous requests, unknown or expired sessions are
    ``None``. The WebSocket handshake carries the cookie too.

    A cookie arriving from another site is ignored (the request is anonymous): a request
    with an ``Origin`` header must come from the request's own host or from one of
    ``CSRF_TRUSTED_ORIGINS``. This stops other sites from opening WebSockets (which no CORS
    preflight protects) as your users.
    """

    async def authenticate(self, request: Request) -> Any:
        from asgiref.sync import sync_to_async  # deferred: Django is optional
        from django.conf import settings
        from django.http.cookie import parse_cookie

        key = parse_cookie(request.headers.get("cookie", "")).get(settings.SESSION_COOKIE_NAME)
        if not key or not _same_site(request, settings.CSRF_TRUSTED_ORIGINS):
            return None
        return await sync_to_async(_session_user)(key)


def _session_user(key: str) -> Any:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import get_user
    from django.http import HttpRequest

    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(key)
    user = get_user(request)
    return user if user.is_authenticated else None


def _same_site(request: Request, trusted: list[str]) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # not a browser's cross-site request: browsers send Origin for those
        return True
    netloc = urlsplit(origin).netloc
    if netloc and netloc == request.headers.get("host"):
        return True
    for allowed in trusted:
        scheme, _, host = allowed.partition("://")
        if origin == allowed or (
            host.startswith("*.")
            and origin.startswith(scheme + "://")
            and netloc.endswith(host[1:])
        ):
            return True
    return False
