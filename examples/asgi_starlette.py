"""The bookstore API inside a Starlette application: ``api.mount(app)``, served by uvicorn.

``api.mount`` finds the ``asgi`` transport for a Starlette (or FastAPI) app, adds TBone's
application at the API's prefix and wraps the app's lifespan, so the stores open at startup
and close, after every TBone socket has been closed with 1001, at shutdown::

    python examples/asgi_starlette.py --port 8000 --db bookstore.db

Needs ``pip install starlette "uvicorn[standard]"`` and tbone-asgi, tbone-sqlite.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bookstore import build_api


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
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--db", default="bookstore.db")
    args = parser.parse_args()
    print(f"Starlette + TBone on http://{args.host}:{args.port}/api (Ctrl-C stops)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it handled
        uvicorn.run(build_app(args.db), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
