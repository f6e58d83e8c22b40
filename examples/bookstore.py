"""A live bookstore: a REST + WebSocket API on SQLite, and a page that updates as books change.

Run from the repository root (see the README's Quick start)::

    python -m pip install -e "packages/tbone-core[sqlite,aiohttp]" \\
        -e packages/tbone-sqlite -e packages/tbone-aiohttp
    python examples/bookstore.py            # --port 8000 --db bookstore.db
    python examples/bookstore.py --store mongodb://localhost:27017/bookstore   # on MongoDB

then open the printed URL in two browser windows and add a book in one of them; or change the
books from a terminal and watch the page::

    curl -s localhost:8000/api/books?author_id=le-guin | python -m json.tool
    curl -s -X POST localhost:8000/api/books -H 'Content-Type: application/json' \\
        -d '{"title": "The Lathe of Heaven", "author_id": "le-guin", "year": 1971}'
    curl -s 'localhost:8000/api/books?expand=author_id&fields=title'   # authors embedded
    curl -s -X POST localhost:8000/api/books/<id>/review -H 'Content-Type: application/json' \\
        -d '{"reviewer": "kim", "rating": 5}'                       # a custom action

The API alone can also be served by the CLI (no page, no seeding)::

    tbone serve examples/bookstore.py:api --server aiohttp --port 8000
    tbone routes examples/bookstore.py:api
"""

# No ``from __future__ import annotations`` here: ``Ref[Author]`` then names this module's
# Author when the class is made, even when the file is executed more than once (the tests do).
import argparse
import os
from pathlib import Path
from typing import Any

from tbone import API, Context, Model, Ref, Resource, action, computed, field

PAGE = Path(__file__).with_name("bookstore.html")


class Author(Model):
    slug: str = field(primary_key=True, pattern=r"^[a-z0-9-]+$", max_length=50)
    name: str = field(min_length=1, max_length=100)
    born: int | None = field(default=None, ge=0, le=3000)


class Publication(Model, embedded=True):
    """Embedded in a book: stored and sent as a nested JSON object."""

    publisher: str = field(min_length=1, max_length=100)
    pages: int | None = field(default=None, ge=1)


class Review(Model, embedded=True):
    reviewer: str = field(min_length=1, max_length=50)
    rating: int = field(ge=1, le=5)
    text: str = field(default="", max_length=2000)


class Book(Model):
    title: str = field(min_length=1, max_length=200)
    author_id: Ref[Author] = field(index=True)  # an Author's key; ?expand=author_id embeds it
    year: int | None = field(default=None, ge=0, le=3000)
    tags: list[str] = field(factory=list)
    publication: Publication | None = None
    reviews: list[Review] = field(factory=list, max_length=100)

    @computed
    def rating(self) -> float | None:
        """The mean review rating, sent with every book (clients cannot set it)."""
        if not self.reviews:
            return None
        return round(sum(r.rating for r in self.reviews) / len(self.reviews), 1)


class AuthorResource(Resource[Author]):
    model = Author
    name = "authors"
    order_fields = ["name", "born"]
    default_order = ["name"]


class BookResource(Resource[Book]):
    model = Book
    name = "books"
    filter_fields = {
        "author_id": ["exact", "in"],
        "year": ["exact", "gte", "lte"],
        "tags": ["contains"],
        "publication.publisher": ["exact"],
    }
    order_fields = ["year", "title"]
    default_order = ["title"]
    search_fields = ["title"]

    @action(detail=True, methods=["POST"], input=Review)
    async def review(self, ctx: Context, obj: Book, data: Review) -> Book:
        """Add a review: ``POST /api/books/{id}/review``, appended in one atomic step, so two
        reviewers at once both count; subscribers see the book ``updated``."""
        return await self.change(obj.id, push={"reviews": data})


def build_api(db: str | os.PathLike[str] = "bookstore.db", *, store: str | None = None) -> API:
    """The bookstore API on the SQLite file ``db`` (created when the server starts), or on the
    store URL ``store`` (``mongodb://...`` with tbone-mongo installed)."""
    # sqlite:///relative.db, sqlite:////absolute.db
    url = store or f"sqlite:///{Path(db).as_posix()}"
    # live events go through the same SQLite file, so that every process serving it (the demo,
    # `tbone serve examples/bookstore.py:api`) hears every write, with no server to run
    channel = url if url.startswith("sqlite:") else "memory://"
    api = API(prefix="/api", stores={"default": url}, channel=channel, title="TBone bookstore")
    api.register(AuthorResource)
    api.register(BookResource)
    return api


#: what ``tbone serve examples/bookstore.py:api`` serves; BOOKSTORE_DB names another file
api = build_api(os.environ.get("BOOKSTORE_DB", "bookstore.db"))

AUTHORS = [
    {"slug": "le-guin", "name": "Ursula K. Le Guin", "born": 1929},
    {"slug": "herbert", "name": "Frank Herbert", "born": 1920},
    {"slug": "butler", "name": "Octavia E. Butler", "born": 1947},
]
BOOKS: list[dict[str, Any]] = [
    {
        "title": "The Left Hand of Darkness",
        "author_id": "le-guin",
        "year": 1969,
        "tags": ["scifi", "classic"],
        "publication": {"publisher": "Ace Books", "pages": 286},
        "reviews": [{"reviewer": "sam", "rating": 5, "text": "Unforgettable."}],
    },
    {
        "title": "The Dispossessed",
        "author_id": "le-guin",
        "year": 1974,
        "tags": ["scifi", "utopia"],
        "publication": {"publisher": "Harper & Row", "pages": 341},
    },
    {
        "title": "Dune",
        "author_id": "herbert",
        "year": 1965,
        "tags": ["scifi", "classic"],
        "publication": {"publisher": "Chilton Books", "pages": 412},
        "reviews": [
            {"reviewer": "ana", "rating": 5},
            {"reviewer": "li", "rating": 4, "text": "Slow start, huge payoff."},
        ],
    },
    {"title": "Kindred", "author_id": "butler", "year": 1979, "tags": ["classic"]},
]


async def seed(api: API) -> None:
    """Add the sample authors and books, once: an existing database is left as it is."""
    authors, books = api.resource("authors"), api.resource("books")
    if (await books.collection.count()) > 0:
        return
    for author in AUTHORS:
        if await authors.collection.get(author["slug"]) is None:
            await authors.create(author)
    for book in BOOKS:
        await books.create(book)


def make_app(api: API) -> Any:
    """An aiohttp application serving the page at ``/`` and the API under ``/api``."""
    from aiohttp import web

    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(PAGE, headers={"Cache-Control": "no-cache"})

    async def seed_on_startup(app: web.Application) -> None:
        await seed(api)  # runs after the API's own startup hook: the stores are open

    app = web.Application()
    app.router.add_get("/", page)
    api.mount(app)
    app.on_startup.append(seed_on_startup)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--db", default="bookstore.db", help="SQLite file (default: %(default)s)")
    parser.add_argument(
        "--store", help="a store URL instead of the SQLite file, e.g. mongodb://host:27017/shop"
    )
    args = parser.parse_args(argv)

    from aiohttp import web

    app = make_app(build_api(args.db, store=args.store))
    url = f"http://{args.host}:{args.port}/"
    ws = url.replace("http", "ws", 1)
    print(f"TBone bookstore on {url}  (API: {url}api/books, WebSocket: {ws}api/ws)")
    where = args.store or Path(args.db).resolve()
    print(f"data in {where}; press Ctrl-C to stop", flush=True)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
