"""A first look at TBone: models, validation with every error, the plugins, and live events that
cross processes through one SQLite file, with no server to install.

Run from the repository root after installing tbone-core and tbone-sqlite (see the README)::

    python examples/demo.py                 # the tour; it adds a book to demo.db
    python examples/demo.py --watch         # print every change to the books, live

The API (store *and* event channel: ``sqlite:///demo.db``) can be served by the CLI as well;
a watcher, the tour and the served API hear each other's writes through the file::

    tbone serve examples/demo.py:api --port 8000      # DEMO_DB names another file
    python examples/demo.py --watch &
    curl -s -X POST localhost:8000/api/books -H 'Content-Type: application/json' \\
        -d '{"title": "Dune", "author": {"name": "Frank Herbert"}, "year": 1965}'

The watcher prints the ``created`` event, with its ``seq``. Stop it, add more books, start it
with ``--after <that seq>``: it replays what it missed, then goes on live.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
from typing import Any

from tbone import API, Model, Resource, ValidationError, field, plugins
from tbone.http import Request


class Author(Model, embedded=True):
    name: str = field(min_length=1, max_length=100)
    born: int | None = field(default=None, ge=0, le=3000)


class Book(Model):
    title: str = field(min_length=1, max_length=200)
    author: Author  # models nest: the wire form is a JSON object
    year: int | None = field(default=None, ge=0, le=3000)
    tags: list[str] = field(factory=list)
    in_print: bool = True


class BookResource(Resource[Book]):
    model = Book
    name = "books"
    filter_fields = {"year": ["exact", "gte", "lte"], "tags": ["contains"]}
    order_fields = ["year", "title"]


def build_api(db: str | os.PathLike[str] = "demo.db") -> API:
    """The demo API: books stored in the SQLite file ``db``, whose ``sqlite://`` channel also
    carries live events between every process that opens the same file."""
    url = f"sqlite:///{Path(db).as_posix()}"
    api = API(prefix="/api", stores=url, channel=url, title="TBone demo")
    api.register(BookResource)
    return api


#: what ``tbone serve examples/demo.py:api`` serves; DEMO_DB names another file
api = build_api(os.environ.get("DEMO_DB", "demo.db"))


def show(title: str, value: object) -> None:
    print(f"\n== {title}")
    print(json.dumps(value, indent=2, ensure_ascii=False))


def models() -> None:
    wire = {
        "title": "Dune",
        "author": {"name": "Frank Herbert", "born": 1920},
        "year": 1965,
        "tags": ["scifi", "classic"],
    }
    book = Book.from_data(wire)  # validates and converts; an id is generated
    print(f"== Book.from_data(...) gave\n{book!r}")
    show("book.to_data()", book.to_data())
    assert Book.from_data(book.to_data()) == book, "to_data() and from_data() round-trip"

    bad = {"title": "", "author": {"name": ""}, "year": 5000, "tags": ["ok", 3]}
    try:
        Book.from_data(bad)
    except ValidationError as exc:
        print(
            f"\n== Book.from_data({bad!r})\nraised ValidationError with {len(exc.errors)} errors:"
        )
        for error in exc.errors:  # every problem, not only the first
            print("  ", json.dumps(error))

    print("\n== plugins (also: `tbone plugins`)")
    for info in plugins.available():
        print(f"{info.kind:<10} {info.name:<12} {info.distribution or '-'} {info.version or ''}")


class Printer:
    """The client end of a WebSocket session, without a server: it prints what it is sent.

    (A real client connects to ``/api/ws`` of a served API; tbone.js does it in a page.)
    """

    def __init__(self, api: API) -> None:
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        request = Request("GET", "/api/ws", "", {})
        self.session = api.open_session(request, send=self._send, close=self._close)

    async def _send(self, text: str) -> None:
        await self.frames.put(json.loads(text))

    async def _close(self, code: int, reason: str) -> None:
        print(f"closed: {code} {reason}")

    async def call(self, frame: dict[str, Any]) -> dict[str, Any]:
        await self.session.receive(json.dumps(frame))
        return await self.frames.get()


def _line(frame: dict[str, Any]) -> str:
    data = frame.get("data") or {}
    title = f" {data['title']!r}" if "title" in data else ""
    return f"{frame['event']:<8} {frame.get('pk')}{title}  seq={frame['seq']}"


async def live(api: API) -> None:
    """Subscribe with a snapshot, add a book, and show the event it sends."""
    async with api:
        client = Printer(api)
        await client.session.start()
        answer = await client.call(
            {
                "type": "subscribe",
                "id": 1,
                "resource": "books",
                "snapshot": True,
                "order_by": "-year",
                "limit": 5,
            }
        )
        print(
            f"\n== subscribed: {len(answer['objects'])} books in the snapshot, at seq "
            f"{answer['seq']}"
        )
        await api.resource("books").create(
            {"title": "Kindred", "author": {"name": "Octavia E. Butler"}, "year": 1979}
        )
        print("== and the event of a new book (every process on the file hears it):")
        print("  ", _line(await asyncio.wait_for(client.frames.get(), 10)))
        await client.session.finish()


async def watch(api: API, after: str | None, seconds: float | None) -> None:
    """Print every change to the books, made by any process on the file, until stopped."""
    async with api:
        client = Printer(api)
        await client.session.start()
        frame: dict[str, Any] = {"type": "subscribe", "id": 1, "resource": "books"}
        if after:
            frame["after"] = after
        answer = await client.call(frame)
        if answer.get("resync"):
            print(f"seq {after} is no longer in the history: re-read the books")
        print("watching the books (Ctrl-C stops)", flush=True)
        async with asyncio.timeout(seconds):
            while True:
                print(_line(await client.frames.get()), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("DEMO_DB", "demo.db"))
    parser.add_argument("--watch", action="store_true", help="print live changes until stopped")
    parser.add_argument("--after", help="with --watch: replay the changes after this seq")
    parser.add_argument("--for", dest="seconds", type=float, help="with --watch: stop after")
    args = parser.parse_args(argv)
    demo = build_api(args.db)
    try:
        if args.watch:
            asyncio.run(watch(demo, args.after, args.seconds))
        else:
            models()
            asyncio.run(live(demo))
    except (KeyboardInterrupt, TimeoutError):
        pass


if __name__ == "__main__":
    main()
