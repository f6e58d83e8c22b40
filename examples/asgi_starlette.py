"""The bookstore API inside a Starlette application: ``api.mount(app)``, served by uvicorn.

``api.mount`` finds the ``asgi`` transport for a Starlette (or FastAPI) app, adds TBone's
application at the API's prefix and wraps the app's lifespan, so the stores open at startup
and close, after every TBone socket has been closed with 1001, at shutdown::

    python examples/asgi_starlette.py --port 8000 --db bookstore.db

Needs ``pip install starlette "uvicorn[standard]"`` and tbone-asgi, tbone-sqlite.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bookstore import build_api
from uvicorn_main import serve


def build_app(db: str = "bookstore.db") -> Starlette:
    api = build_api(db)

    async def hello(request: Request) -> JSONResponse:  # one of the application's own routes
        return JSONResponse({"hello": "from Starlette"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield  # the application's own startup and shutdown work goes around the yield

    app = Starlette(routes=[Route("/hello", hello)], lifespan=lifespan)
    api.mount(app)  # TBone's lifespan runs inside the app's, its routes after the app's
    return app


def main() -> None:
    serve(build_app, description=__doc__.splitlines()[0], host_name="Starlette", path="/api")


if __name__ == "__main__":
    main()
