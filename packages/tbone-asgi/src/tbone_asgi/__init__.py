"""Serve TBone APIs over ASGI 3: any ASGI server, or inside Django, Starlette, FastAPI, Litestar.

>>> app = tbone_asgi.asgi_app(api)  # an ASGI application: uvicorn app:app  # doctest: +SKIP
>>> api.mount(
...     starlette_app
... )  # Starlette, FastAPI and Litestar apps: mounted at api.prefix  # doctest: +SKIP

or ``tbone serve --server uvicorn`` (or ``hypercorn``). The transport is found through the
``tbone.transports`` entry point ``asgi``. Django: :mod:`tbone_asgi.django`.
"""

from ._app import TBoneASGI, asgi_app
from ._transport import AsgiTransport

__version__ = "0.1.0"

__all__ = ["AsgiTransport", "TBoneASGI", "asgi_app"]
