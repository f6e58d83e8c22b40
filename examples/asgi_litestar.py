"""The bookstore API inside a Litestar application, served by uvicorn.

TBone's ASGI application is a Litestar ``asgi`` route handler mounted at the API's prefix;
Litestar's ``on_startup`` / ``on_shutdown`` hooks run TBone's lifespan (``api.mount(app)``
does the same two steps for you)::

    python examples/asgi_litestar.py --port 8000 --db bookstore.db

Needs ``pip install litestar "uvicorn[standard]"`` and tbone-asgi, tbone-sqlite.
"""

from __future__ import annotations

from litestar import Litestar, asgi, get
from litestar.types import Receive, Scope, Send

from bookstore import build_api, seed
from tbone_asgi import asgi_app
from uvicorn_main import serve


def build_app(db: str = "bookstore.db") -> Litestar:
    api = build_api(db)
    tbone = asgi_app(api)

    @asgi(api.prefix, is_mount=True, copy_scope=True)
    async def tbone_api(scope: Scope, receive: Receive, send: Send) -> None:
        await tbone(scope, receive, send)  # type: ignore[arg-type]  # both are ASGI 3

    @get("/hello")
    async def hello() -> dict[str, str]:  # one of the application's own routes
        return {"hello": "from Litestar"}

    async def startup() -> None:
        await tbone.startup()
        await seed(api)

    return Litestar(
        route_handlers=[tbone_api, hello],
        on_startup=[startup],
        on_shutdown=[tbone.shutdown],  # closes every socket with 1001, then the stores
    )


def main() -> None:
    serve(build_app, description=__doc__.splitlines()[0], host_name="Litestar", path="/api")


if __name__ == "__main__":
    main()
