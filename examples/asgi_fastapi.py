"""The bookstore (examples/bookstore.py) inside a FastAPI application, served by uvicorn.

FastAPI keeps its own routes; TBone's ASGI application is mounted at the API's prefix. Starlette
sends no lifespan events to mounted applications, so the app's own lifespan runs TBone's::

    python examples/asgi_fastapi.py --port 8000 --db bookstore.db
    uvicorn --factory asgi_fastapi:build_app --app-dir examples   # the same, by uvicorn's CLI

Needs ``pip install fastapi "uvicorn[standard]"`` and tbone-asgi, tbone-sqlite.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse

from bookstore import PAGE, build_api, seed
from tbone_asgi import asgi_app
from uvicorn_main import serve


def build_app(db: str = "bookstore.db") -> FastAPI:
    api = build_api(db)
    tbone = asgi_app(api)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with tbone.lifespan():  # opens the stores; on exit closes sockets, then stores
            await seed(api)
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/")
    async def page() -> FileResponse:
        return FileResponse(PAGE, headers={"Cache-Control": "no-cache"})

    @app.get("/hello")
    async def hello() -> dict[str, Any]:  # one of the application's own routes
        return {"hello": "from FastAPI", "books": await api.resource("books").collection.count()}

    app.mount(api.prefix, tbone)  # requests under /api, and the WebSocket /api/ws
    return app


def main() -> None:
    serve(build_app, description=__doc__.splitlines()[0], host_name="FastAPI", path="/")


if __name__ == "__main__":
    main()
