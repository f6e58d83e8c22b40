"""Checked by mypy --strict in test_typing.py: the ODM is typed the way users write it.

Lines marked ``type: ignore[...]`` MUST be errors: strict mode's warn_unused_ignores turns a
missing error into a failure, so wrong types staying silent is caught too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, assert_type

from tbone import Model, ValidationError, computed, field
from tbone.types import Email


class Author(Model, embedded=True):
    name: str = field(min_length=1)
    email: Email | None = None


class Book(Model):
    title: str = field(min_length=1, max_length=200)
    author: Author
    year: int | None = field(default=None, ge=0)
    tags: list[str] = field(factory=list)
    added: dt.datetime = field(factory=lambda: dt.datetime.now(dt.UTC), read_only=True)

    @computed
    def label(self) -> str:
        return self.title.upper()


book = Book(title="Dune", author=Author(name="Herbert"))
assert_type(book.title, str)
assert_type(book.year, int | None)
assert_type(book.tags, list[str])
assert_type(book.author, Author)
assert_type(book.label, str)
assert_type(Book.from_data({"title": "x"}), Book)
assert_type(book.to_data(), dict[str, Any])
assert_type(book.id, str)

errors: list[object] = []
try:
    Book.from_data({})
except ValidationError as exc:
    errors.extend(exc.errors)

Book(title=1, author=Author(name="x"))  # type: ignore[arg-type]
Book(title="x")  # type: ignore[call-arg]
Book("x", Author(name="y"))  # type: ignore[call-arg]
book.nope  # type: ignore[attr-defined]  # noqa: B018
