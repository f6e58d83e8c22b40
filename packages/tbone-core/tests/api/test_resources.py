"""Resources from Python and over HTTP: hooks, scope, authentication, permissions, events."""

from __future__ import annotations

from typing import Any

import pytest

from tbone import (
    API,
    BearerToken,
    Context,
    HTTPError,
    IsAuthenticated,
    Model,
    NotFound,
    Q,
    ReadOnly,
    Resource,
    ValidationError,
    field,
)
from tbone.resources import ListQuery

from .conftest import Book, BookResource, Client


class Note(Model):
    text: str = field(min_length=1)
    owner: str = field(default="", read_only=True)


class NoteResource(Resource[Note]):
    """Each user sees and writes only their own notes."""

    model = Note
    name = "notes"
    authenticator = BearerToken({"alice-token": "alice", "bob-token": "bob"})
    permissions = (IsAuthenticated(),)

    def scope(self, ctx: Context) -> Q | None:
        return None if ctx.trusted else Q(owner=ctx.user)

    async def before_create(self, ctx: Context, data: dict[str, Any]) -> None:
        data["owner"] = ctx.user

    def serialize(self, obj: Note, ctx: Context, fields: Any = None) -> dict[str, Any]:
        return obj.to_data(fields=fields)


class Hooked(BookResource):
    name = "hooked"
    calls: list[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls = []

    async def before_create(self, ctx: Context, data: dict[str, Any]) -> None:
        self.calls.append(f"before_create:{ctx.via}")
        data["title"] = data["title"].strip()

    async def after_create(self, ctx: Context, obj: Book) -> None:
        self.calls.append(f"after_create:{obj.title}")

    async def before_list(self, ctx: Context, query: ListQuery) -> None:
        self.calls.append("before_list")

    async def before_delete(self, ctx: Context, obj: Book) -> None:
        if obj.title == "keep":
            raise HTTPError(409, "this book is kept")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def notes_api() -> Any:
    api = API()
    api.register(NoteResource)
    async with api:
        yield api


async def test_python_calls_run_the_same_code_and_emit_events(api: API) -> None:
    events: list[tuple[str, str, Any]] = []

    @api.on_event
    async def record(resource: Resource[Any], event: str, obj: Model) -> None:
        events.append((resource.name, event, obj.to_data()["title"]))

    books = api.resource("books")
    book = await books.create({"title": "Dune", "author": "Herbert"})
    await books.update(book.id, {"year": 1965})
    await books.replace(book.id, {"title": "Dune!", "author": "Herbert"})
    await books.delete(book.id)
    assert events == [
        ("books", "created", "Dune"),
        ("books", "updated", "Dune"),
        ("books", "updated", "Dune!"),
        ("books", "deleted", "Dune!"),
    ]
    with pytest.raises(NotFound):
        await books.detail(book.id)
    with pytest.raises(ValidationError):
        await books.create({"title": ""})


async def test_hooks_run_in_order_and_can_refuse(api: API) -> None:
    api_h = API()
    api_h.register(Hooked)
    async with api_h:
        client = Client(api_h)
        created = await client.json(
            "POST", "/api/hooked", {"title": "  Dune ", "author": "H"}, status=201
        )
        assert created["title"] == "Dune"
        await client.json("GET", "/api/hooked", status=200)
        hooked = api_h.resource("hooked")
        assert isinstance(hooked, Hooked)
        assert hooked.calls == ["before_create:http", "after_create:Dune", "before_list"]
        kept = await client.json(
            "POST", "/api/hooked", {"title": "keep", "author": "H"}, status=201
        )
        problem = await client.json("DELETE", f"/api/hooked/{kept['id']}", status=409)
        assert problem["detail"] == "this book is kept"
        assert (await client.request("GET", f"/api/hooked/{kept['id']}")).status == 200


async def test_bearer_authentication(notes_api: API) -> None:
    client = Client(notes_api)
    anonymous = await client.request("GET", "/api/notes")
    assert anonymous.status == 401
    wrong = await client.request("GET", "/api/notes", headers=bearer("nope"))
    assert wrong.status == 401
    assert wrong.header("WWW-Authenticate") is not None
    malformed = await client.request("GET", "/api/notes", headers={"Authorization": "Basic abc"})
    assert malformed.status == 401
    assert (await client.request("GET", "/api/notes", headers=bearer("alice-token"))).status == 200


async def test_scope_applies_to_every_read_and_write(notes_api: API) -> None:
    client = Client(notes_api)
    alice = await client.json(
        "POST", "/api/notes", {"text": "a1"}, status=201, headers=bearer("alice-token")
    )
    await client.json("POST", "/api/notes", {"text": "b1"}, status=201, headers=bearer("bob-token"))
    assert alice["owner"] == "alice"
    mine = await client.json("GET", "/api/notes", status=200, headers=bearer("alice-token"))
    assert [n["text"] for n in mine["objects"]] == ["a1"]
    assert mine["meta"]["total_count"] == 1
    url = f"/api/notes/{alice['id']}"
    for method, body in (
        ("GET", None),
        ("PATCH", {"text": "x"}),
        ("PUT", {"text": "x"}),
        ("DELETE", None),
    ):
        response = await client.request(method, url, body, headers=bearer("bob-token"))
        assert response.status == 404, method
    assert (await notes_api.resource("notes").detail(alice["id"])).text == "a1"


async def test_read_only_permission() -> None:
    class Catalogue(BookResource):
        name = "catalogue"
        permissions = (ReadOnly(),)

    api = API()
    api.register(Catalogue)
    async with api:
        client = Client(api)
        assert (await client.request("GET", "/api/catalogue")).status == 200
        refused = await client.request("POST", "/api/catalogue", {"title": "t", "author": "a"})
        assert refused.status == 403
        book = await api.resource("catalogue").create({"title": "t", "author": "a"})  # trusted
        assert (await client.request("DELETE", f"/api/catalogue/{book.id}")).status == 403


async def test_actions_limit_methods() -> None:
    class ListOnly(BookResource):
        name = "listonly"
        actions = ("list", "detail")

    api = API()
    api.register(ListOnly)
    async with api:
        client = Client(api)
        response = await client.request("POST", "/api/listonly", {"title": "t", "author": "a"})
        assert response.status == 405
        assert response.header("Allow") == "GET, HEAD, OPTIONS"


def test_misconfigured_resources_are_refused_at_registration() -> None:
    class BadFilter(BookResource):
        name = "bad1"
        filter_fields = {"nope": ["exact"]}

    class BadLookup(BookResource):
        name = "bad2"
        filter_fields = {"year": ["near"]}

    class BadOrder(BookResource):
        name = "bad3"
        order_fields = ("nope",)

    api = API()
    for resource in (BadFilter, BadLookup, BadOrder):
        with pytest.raises((TypeError, ValidationError)):
            api.register(resource)
    api.register(BookResource)
    with pytest.raises(ValueError, match="taken"):
        api.register(BookResource)


async def test_registration_is_frozen_once_started(api: API) -> None:
    class Late(BookResource):
        name = "late"

    with pytest.raises(RuntimeError):
        api.register(Late)


async def test_a_failing_listener_does_not_break_writes(
    api: API, caplog: pytest.LogCaptureFixture
) -> None:
    @api.on_event
    async def broken(resource: Resource[Any], event: str, obj: Model) -> None:
        raise RuntimeError("listener bug")

    book = await api.resource("books").create({"title": "t", "author": "a"})
    assert (await api.resource("books").detail(book.id)).title == "t"
    assert "event listener failed" in caplog.text
