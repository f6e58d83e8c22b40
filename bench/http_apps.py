"""The servers the HTTP benchmark compares, each started in its own process.

``python bench/http_apps.py KIND PORT`` serves one of:

- ``tbone-aiohttp`` / ``tbone-sanic``: a TBone resource on the memory store;
- ``hand-aiohttp`` / ``hand-sanic``: hand-written handlers on the same server doing the same
  work (query parsing, ODM validation, the same store, JSON) without TBone's resource layer;
- ``fastapi``: FastAPI + pydantic v2 under uvicorn, with a dict as the store.

Every server holds the same 100 seeded books and answers ``GET /api/books?limit=20``,
``GET /api/books?author=...&limit=20`` (an equality filter on an indexed field),
``GET /api/books/{id}``, ``PATCH /api/books/{id}`` (a partial update, validated again as a whole)
and ``POST /api/books``.
"""

import json
import sys
from typing import Any

from tbone import API, Model, Resource, field
from tbone.storage import MemoryStore

SEED_IDS = [f"{i:032x}" for i in range(100)]


class Book(Model):
    title: str = field(min_length=1, max_length=200)
    author: str = field(min_length=1, index=True)
    year: int | None = field(default=None, ge=0, le=3000)
    tags: list[str] = field(factory=list)
    in_print: bool = True


class BookResource(Resource[Book]):
    model = Book
    name = "books"
    page_size = 20
    filter_fields = {"author": ["exact"]}


def seed_docs() -> list[dict[str, Any]]:
    return [
        {
            "id": pk,
            "title": f"Book {i}",
            "author": f"Author {i % 7}",
            "year": 1900 + i,
            "tags": ["x"],
        }
        for i, pk in enumerate(SEED_IDS)
    ]


def tbone_api() -> API:
    api = API(stores=MemoryStore())
    api.register(BookResource)

    async def seed(_: Any = None) -> None:
        books = api.resource("books").collection
        await books.insert_many([Book.from_data(d) for d in seed_docs()])

    api.seed = seed  # type: ignore[attr-defined]  # benchmark-only hook
    return api


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def page_of(limit_text: str | None, offset_text: str | None) -> tuple[int, int]:
    limit = min(int(limit_text or 20), 100)
    offset = int(offset_text or 0)
    return limit, offset


def author_filter(author: str | None) -> dict[str, str]:
    return {} if author is None else {"author": author}


def serve_tbone(kind: str, port: int) -> None:
    from tbone import plugins

    api = tbone_api()
    transport = plugins.load("transport", kind)()
    original = api.startup

    async def startup() -> None:
        await original()
        await api.seed()  # type: ignore[attr-defined]  # benchmark-only hook

    api.startup = startup  # type: ignore[method-assign]  # seed once the store is open
    transport.serve(api, host="127.0.0.1", port=port)


def serve_hand_aiohttp(port: int) -> None:
    from aiohttp import web

    store = MemoryStore()
    books = store.collection(Book, "books")

    async def startup(_: web.Application) -> None:
        await books.insert_many([Book.from_data(d) for d in seed_docs()])

    async def list_books(request: web.Request) -> web.Response:
        limit, offset = page_of(request.query.get("limit"), request.query.get("offset"))
        where = author_filter(request.query.get("author"))
        page = await books.find(limit=limit, offset=offset, **where)
        total = await books.count(**where)
        body = {
            "objects": [b.to_data() for b in page],
            "meta": {"total_count": total, "limit": limit, "offset": offset},
        }
        return web.Response(body=dumps(body), content_type="application/json")

    async def get_book(request: web.Request) -> web.Response:
        book = await books.get(request.match_info["pk"])
        if book is None:
            return web.Response(status=404)
        return web.Response(body=dumps(book.to_data()), content_type="application/json")

    async def create_book(request: web.Request) -> web.Response:
        book = Book.from_data(json.loads(await request.read()))
        await books.insert(book)
        return web.Response(status=201, body=dumps(book.to_data()), content_type="application/json")

    async def update_book(request: web.Request) -> web.Response:
        changes = json.loads(await request.read())
        book = await books.update(request.match_info["pk"], changes)
        return web.Response(body=dumps(book.to_data()), content_type="application/json")

    app = web.Application()
    app.on_startup.append(startup)
    app.router.add_get("/api/books", list_books)
    app.router.add_post("/api/books", create_book)
    app.router.add_get("/api/books/{pk}", get_book)
    app.router.add_patch("/api/books/{pk}", update_book)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def serve_hand_sanic(port: int) -> None:
    from sanic import Sanic
    from sanic.response import raw

    store = MemoryStore()
    books = store.collection(Book, "books")
    app = Sanic("hand")

    @app.before_server_start
    async def startup(*_: Any) -> None:
        await books.insert_many([Book.from_data(d) for d in seed_docs()])

    @app.get("/api/books")
    async def list_books(request: Any) -> Any:
        limit, offset = page_of(request.args.get("limit"), request.args.get("offset"))
        where = author_filter(request.args.get("author"))
        page = await books.find(limit=limit, offset=offset, **where)
        total = await books.count(**where)
        body = {
            "objects": [b.to_data() for b in page],
            "meta": {"total_count": total, "limit": limit, "offset": offset},
        }
        return raw(dumps(body), content_type="application/json")

    @app.get("/api/books/<pk>")
    async def get_book(request: Any, pk: str) -> Any:
        book = await books.get(pk)
        if book is None:
            return raw(b"", status=404)
        return raw(dumps(book.to_data()), content_type="application/json")

    @app.post("/api/books")
    async def create_book(request: Any) -> Any:
        book = Book.from_data(json.loads(request.body))
        await books.insert(book)
        return raw(dumps(book.to_data()), status=201, content_type="application/json")

    @app.patch("/api/books/<pk>")
    async def update_book(request: Any, pk: str) -> Any:
        book = await books.update(pk, json.loads(request.body))
        return raw(dumps(book.to_data()), content_type="application/json")

    app.run(host="127.0.0.1", port=port, single_process=True, access_log=False, motd=False)


def serve_fastapi(port: int) -> None:
    import uuid

    import pydantic
    import uvicorn
    from fastapi import FastAPI, HTTPException

    class PBook(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid")
        id: str = pydantic.Field(default_factory=lambda: uuid.uuid4().hex)
        title: str = pydantic.Field(min_length=1, max_length=200)
        author: str = pydantic.Field(min_length=1)
        year: int | None = pydantic.Field(default=None, ge=0, le=3000)
        tags: list[str] = pydantic.Field(default_factory=list)
        in_print: bool = True

    db: dict[str, PBook] = {d["id"]: PBook(**d) for d in seed_docs()}
    app = FastAPI()

    class PBookChanges(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid")
        title: str | None = None
        author: str | None = None
        year: int | None = None
        tags: list[str] | None = None
        in_print: bool | None = None

    @app.get("/api/books")
    async def list_books(
        limit: int = 20, offset: int = 0, author: str | None = None
    ) -> dict[str, Any]:
        matching = [b for b in db.values() if author is None or b.author == author]
        ordered = sorted(matching, key=lambda b: b.id)[offset : offset + min(limit, 100)]
        return {
            "objects": ordered,
            "meta": {"total_count": len(matching), "limit": limit, "offset": offset},
        }

    @app.get("/api/books/{pk}")
    async def get_book(pk: str) -> PBook:
        if pk not in db:
            raise HTTPException(404)
        return db[pk]

    @app.patch("/api/books/{pk}")
    async def update_book(pk: str, changes: PBookChanges) -> PBook:
        if pk not in db:
            raise HTTPException(404)
        merged = {**db[pk].model_dump(), **changes.model_dump(exclude_unset=True)}
        db[pk] = book = PBook.model_validate(merged)  # the whole book validated again
        return book

    @app.post("/api/books", status_code=201)
    async def create_book(book: PBook) -> PBook:
        db[book.id] = book
        return book

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind.startswith("tbone-"):
        serve_tbone(kind.removeprefix("tbone-"), port)
    elif kind == "hand-aiohttp":
        serve_hand_aiohttp(port)
    elif kind == "hand-sanic":
        serve_hand_sanic(port)
    elif kind == "fastapi":
        serve_fastapi(port)
    else:
        raise SystemExit(f"unknown server kind {kind!r}")


if __name__ == "__main__":
    main()
