"""The API every transport is checked with: books (generated ids) and authors (text ids).

Fields cover what the HTTP layer must honour: constraints, a read-only field with a fixed
default, a write-only and a private field; the resources whitelist filters, orderings and search.
Nothing here varies between runs, so two servers given the same requests answer identically.
"""

from __future__ import annotations

from typing import Any

from tbone import BearerToken, Context, IsAuthenticated, Model, Q, field
from tbone.api import API
from tbone.http import CORS
from tbone.realtime import Limits
from tbone.resources import Resource
from tbone.storage import Store

__all__ = [
    "REALTIME_LIMITS",
    "SEED_BOOKS",
    "TOKENS",
    "Author",
    "AuthorResource",
    "Book",
    "BookResource",
    "Note",
    "NoteResource",
    "build_api",
    "build_realtime_api",
]


class Book(Model):
    title: str = field(min_length=1, max_length=200)
    author: str
    year: int | None = field(default=None, ge=0, le=3000)
    tags: list[str] = field(factory=list)
    in_print: bool = True
    status: str = field(default="draft", read_only=True)
    secret: str = field(default="", write_only=True)
    cost: float = field(default=0.0, private=True)


class Author(Model):
    name: str = field(primary_key=True, min_length=1)
    country: str = ""


class BookResource(Resource[Book]):
    model = Book
    name = "books"
    filter_fields = {
        "author": ["exact", "in"],
        "year": ["exact", "gte", "lte"],
        "tags": ["contains"],
        "in_print": ["exact"],
    }
    order_fields = ("year", "title", "author")
    default_order = ("title",)
    search_fields = ("title", "author")
    page_size = 5
    max_page_size = 50


class AuthorResource(Resource[Author]):
    model = Author
    name = "authors"
    filter_fields = {"country": ["exact"]}
    order_fields = ("name",)
    default_order = ("name",)


class Note(Model):
    text: str
    owner: str = field(default="", read_only=True)


class NoteResource(Resource[Note]):
    """Private notes: signed-in users only, each sees (and hears about) only their own."""

    model = Note
    name = "notes"
    permissions = (IsAuthenticated(),)
    filter_fields = {"text": ["exact"]}

    def scope(self, ctx: Context) -> Q | None:
        return None if ctx.trusted else Q(owner=ctx.user)

    async def before_create(self, ctx: Context, data: dict[str, Any]) -> None:
        data["owner"] = ctx.user


#: bearer tokens of the realtime API's users
TOKENS = {"alice-token": "alice", "bob-token": "bob"}
#: a small send queue, so that a client that never reads overflows it quickly
REALTIME_LIMITS = Limits(send_queue=64, max_subscriptions=100)

SEED_BOOKS: list[dict[str, Any]] = [
    {"title": "Dune", "author": "Herbert", "year": 1965, "tags": ["scifi"]},
    {"title": "Dune Messiah", "author": "Herbert", "year": 1969, "tags": ["scifi"]},
    {"title": "Emma", "author": "Austen", "year": 1815, "tags": ["classic"]},
    {"title": "Persuasion", "author": "Austen", "year": 1817, "tags": ["classic"]},
    {"title": "The Dispossessed", "author": "Le Guin", "year": 1974, "tags": ["scifi"]},
    {"title": "Solaris", "author": "Lem", "year": 1961, "tags": ["scifi"], "in_print": False},
    {"title": "Ficciones", "author": "Borges", "year": 1944, "tags": []},
    {"title": "Der Process", "author": "Kafka & Brod", "year": 1925, "tags": ["classic"]},
]


def build_api(
    store: str | Store = "memory://", *, prefix: str = "/api", max_body_size: int = 1 << 20
) -> API:
    """A fresh API with both resources on ``store`` and CORS open to every origin."""
    api = API(prefix=prefix, stores=store, cors=CORS(), max_body_size=max_body_size)
    api.register(BookResource)
    api.register(AuthorResource)
    return api


def build_realtime_api(store: str | Store = "memory://") -> API:
    """:func:`build_api` plus private notes, bearer tokens (:data:`TOKENS`) and small bounds."""
    api = API(
        prefix="/api",
        stores=store,
        cors=CORS(),
        authenticator=BearerToken(TOKENS),
        realtime=REALTIME_LIMITS,
    )
    for resource in (BookResource, AuthorResource, NoteResource):
        api.register(resource)
    return api
