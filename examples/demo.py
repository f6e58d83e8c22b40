"""A first look at TBone: declare models, validate wire data, see every error, list the plugins.

Run from the repository root after installing tbone-core (see the README's Quick start)::

    python examples/demo.py

The REST + WebSocket part (Resource, API, a server to mount it on) is not built yet; this demo
will grow into it.
"""

from __future__ import annotations

import json

from tbone import Model, ValidationError, field, plugins


class Author(Model):
    name: str = field(min_length=1, max_length=100)
    born: int | None = field(default=None, ge=0, le=3000)


class Book(Model):
    title: str = field(min_length=1, max_length=200)
    author: Author  # models nest: the wire form is a JSON object
    year: int | None = field(default=None, ge=0, le=3000)
    tags: list[str] = field(factory=list)
    in_print: bool = True


def show(title: str, value: object) -> None:
    print(f"\n== {title}")
    print(json.dumps(value, indent=2, ensure_ascii=False))


def main() -> None:
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


if __name__ == "__main__":
    main()
