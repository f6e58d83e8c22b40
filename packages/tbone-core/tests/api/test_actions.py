"""Custom actions (``@tbone.action``): routes, input, output, checks, events, OpenAPI, routes.

Most behaviours run sans-io through ``api.handle``; the last tests run the same actions on real
aiohttp, Sanic and ASGI servers, over HTTP and over the WebSocket.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate as validate_spec
from websockets.asyncio.client import connect

from tbone import (
    API,
    BearerToken,
    Context,
    IsAuthenticated,
    Model,
    NotFound,
    PerAction,
    PermissionDenied,
    ReadOnly,
    Resource,
    ValidationError,
    action,
    field,
)
from tbone.cli import routes
from tbone.testing.transport import LiveServer

from .conftest import Client


class Book(Model):
    title: str = field(min_length=1)
    owner: str = ""
    status: str = "draft"
    reviews: int = 0
    cost: float = field(default=0.0, private=True)


class Review(Model, embedded=True):
    stars: int = field(ge=1, le=5)
    text: str = ""


class Stats(Model, embedded=True):
    count: int
    secret: str = field(default="hidden", private=True)


class Filter(Model, embedded=True):
    min_reviews: int = 0
    drafts: bool = False


class BookResource(Resource[Book]):
    model = Book
    name = "books"

    def scope(self, ctx: Context) -> Any:
        return {"owner__ne": "mallory"} if ctx.user != "mallory" else None

    @action(detail=True, methods=["POST"], input=Review)
    async def review(self, ctx: Context, obj: Book, data: Review) -> Book:
        """Review a book: one more review, and the book is reviewed."""
        return await self.change(obj.id, {"reviews": obj.reviews + 1, "status": "reviewed"})

    @action(methods=["GET"], input=Filter)
    async def popular(self, ctx: Context, data: Filter) -> list[Book]:
        """The books with at least ``min_reviews`` reviews."""
        page = await self.collection.find(reviews__gte=data.min_reviews, order_by="-reviews")
        return [b for b in page.items if data.drafts or b.status != "draft"]

    @action(methods=["GET", "POST"])
    async def stats(self, ctx: Context, data: Any) -> Stats:
        return Stats(count=await self.collection.count())

    @action(methods=["POST"])
    async def echo(self, ctx: Context, data: Any) -> Any:
        return {"got": data, "via": ctx.via, "user": ctx.user}

    @action(detail=True, methods=["DELETE"])
    async def retire(self, ctx: Context, obj: Book, data: Any) -> None:
        await self.remove(obj.id)

    @action(methods=["POST"])
    async def add(self, ctx: Context, data: Any) -> Book:
        return await self.insert(Book.from_data(data))

    async def before_action(self, ctx: Context, name: str, obj: Any, data: Any) -> None:
        if isinstance(data, Review) and data.text == "spam":
            raise PermissionDenied("no spam")


@pytest.fixture
async def api() -> AsyncIterator[API]:
    api = API(prefix="/api")
    api.register(BookResource)
    async with api:
        yield api


@pytest.fixture
def client(api: API) -> Client:
    return Client(api)


async def _book(api: API, **data: Any) -> Book:
    book: Book = await api.resource("books").insert(Book(**{"title": "Dune", **data}))
    return book


async def test_detail_action_runs_on_the_object_and_serializes_it(api: API, client: Client):
    book = await _book(api, cost=9.5)
    body = await client.json("POST", f"/api/books/{book.id}/review", {"stars": 5}, status=200)
    assert body == {"id": book.id, "title": "Dune", "owner": "", "status": "reviewed", "reviews": 1}
    assert "cost" not in body  # private fields never leak, as for CRUD


async def test_input_is_validated_with_paths(api: API, client: Client):
    book = await _book(api)
    response = await client.request("POST", f"/api/books/{book.id}/review", {"stars": 9, "text": 3})
    assert response.status == 422
    assert response.header("content-type") == "application/problem+json"
    errors = json.loads(response.body)["errors"]
    assert sorted(e["loc"] for e in errors) == [["stars"], ["text"]]
    for bad in ([1, 2], "x", None):
        raw = json.dumps(bad).encode()
        response = await client.request(
            "POST",
            f"/api/books/{book.id}/review",
            raw,
            headers={"Content-Type": "application/json"},
        )
        assert response.status == 422, bad
    assert (await api.resource("books").detail(book.id)).reviews == 0  # nothing stored


async def test_absent_body_validates_as_an_empty_object(api: API, client: Client):
    book = await _book(api)
    response = await client.request("POST", f"/api/books/{book.id}/review")
    assert response.status == 422
    assert json.loads(response.body)["errors"][0]["loc"] == ["stars"]


async def test_collection_action_reads_the_query_typed_by_its_input(api: API, client: Client):
    await _book(api, title="A", reviews=3, status="reviewed")
    await _book(api, title="B", reviews=1, status="reviewed")
    await _book(api, title="C", reviews=7)
    body = await client.json("GET", "/api/books/popular", query="min_reviews=2", status=200)
    assert [b["title"] for b in body] == ["A"]
    body = await client.json(
        "GET", "/api/books/popular", query="min_reviews=2&drafts=true", status=200
    )
    assert [b["title"] for b in body] == ["C", "A"]
    response = await client.request("GET", "/api/books/popular", query="min_reviews=lots")
    assert response.status == 422
    assert json.loads(response.body)["errors"][0]["loc"] == ["min_reviews"]


async def test_results_other_models_json_and_none(api: API, client: Client):
    book = await _book(api)
    assert await client.json("GET", "/api/books/stats", status=200) == {"count": 1}
    assert await client.json("POST", "/api/books/stats", status=200) == {"count": 1}
    got = await client.json("POST", "/api/books/echo", {"a": [1, 2]}, status=200)
    assert got == {"got": {"a": [1, 2]}, "via": "http", "user": None}
    assert await client.json("POST", "/api/books/echo", status=200) == {
        "got": None,
        "via": "http",
        "user": None,
    }
    response = await client.request("DELETE", f"/api/books/{book.id}/retire")
    assert (response.status, response.body) == (204, b"")
    assert await api.resource("books").collection.get(book.id) is None


async def test_unknown_actions_and_methods(api: API, client: Client):
    book = await _book(api)
    cases = [
        ("POST", f"/api/books/{book.id}/publish", 404, None),
        ("POST", f"/api/books/{book.id}/popular", 404, None),  # a collection action
        ("POST", "/api/books/missing-id/review", 404, None),
        ("POST", f"/api/books/{book.id}/review/more", 404, None),
        ("GET", f"/api/books/{book.id}/review", 405, "POST, OPTIONS"),
        ("PUT", "/api/books/popular", 405, "GET, HEAD, OPTIONS"),
        ("DELETE", "/api/books/stats", 405, "GET, HEAD, POST, OPTIONS"),
        ("GET", "/api/books/echo", 405, "POST, OPTIONS"),
    ]
    for method, path, status, allow in cases:
        response = await client.request(method, path, {"stars": 3})
        assert response.status == status, (method, path, response.body)
        assert response.header("content-type") == "application/problem+json"
        assert response.header("allow") == allow
    response = await client.request("OPTIONS", f"/api/books/{book.id}/review")
    assert (response.status, response.header("allow")) == (204, "POST, OPTIONS")
    response = await client.request("HEAD", "/api/books/stats")
    assert (response.status, response.body) == (200, b"")


async def test_a_collection_action_wins_over_a_primary_key(api: API, client: Client):
    await api.resource("books").collection.insert(Book(id="stats", title="Stats"))
    assert await client.json("GET", "/api/books/stats", status=200) == {"count": 1}
    assert (await client.json("GET", "/api/books", status=200))["objects"][0]["id"] == "stats"


async def test_body_limits_and_media_type_apply(client: Client, api: API):
    book = await _book(api)
    small = API(prefix="/api", max_body_size=64)
    small.register(BookResource)
    async with small:
        big = {"stars": 3, "text": "x" * 100}
        response = await Client(small).request("POST", "/api/books/echo", big)
        assert response.status == 413
    path = f"/api/books/{book.id}/review"
    response = await client.request(
        "POST", path, b"{", headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    response = await client.request(
        "POST", path, b"stars=3", headers={"Content-Type": "text/plain"}
    )
    assert response.status == 415


async def test_hooks_refuse_before_the_action_runs(api: API, client: Client):
    book = await _book(api)
    path = f"/api/books/{book.id}/review"
    response = await client.request("POST", path, {"stars": 3, "text": "spam"})
    assert response.status == 403
    assert (await api.resource("books").detail(book.id)).reviews == 0


async def test_scope_hides_objects_from_detail_actions(client: Client, api: API):
    hidden = await api.resource("books").collection.insert(Book(title="X", owner="mallory"))
    response = await client.request("POST", f"/api/books/{hidden.id}/review", {"stars": 3})
    assert response.status == 404
    assert json.loads(response.body)["detail"] == f"no books object has id {hidden.id!r}"


async def test_writes_inside_actions_emit_events(api: API, client: Client):
    seen: list[tuple[str, str]] = []

    @api.on_event
    async def listen(resource: Resource[Any], event: str, obj: Model) -> None:
        seen.append((event, obj.title))  # type: ignore[attr-defined]

    book = await _book(api)
    await client.json("POST", f"/api/books/{book.id}/review", {"stars": 4}, status=200)
    await client.json("POST", "/api/books/add", {"title": "Emma"}, status=200)
    await client.request("DELETE", f"/api/books/{book.id}/retire")
    assert seen == [
        ("created", "Dune"),
        ("updated", "Dune"),
        ("created", "Emma"),
        ("deleted", "Dune"),
    ]


class _Users(BearerToken):
    def __init__(self) -> None:
        super().__init__({"a": "alice", "e": "editor"})


class GuardedBooks(BookResource):
    name = "guarded"
    authenticator = _Users()
    permissions = (
        IsAuthenticated(read_anonymously=True, anonymous=["popular"]),
        PerAction({"review": [], "echo": False}, default=[ReadOnly(allow=["popular", "stats"])]),
    )


async def test_permissions_name_the_action():
    api = API(prefix="/api")
    api.register(GuardedBooks)
    async with api:
        client = Client(api)
        book = await api.resource("guarded").create({"title": "Dune"})
        alice = {"Authorization": "Bearer a"}
        cases = [
            ("GET", "/api/guarded/popular", None, {}, 200),  # anonymous, named
            ("GET", "/api/guarded/stats", None, {}, 401),  # not named for anonymous users
            ("GET", "/api/guarded/stats", None, alice, 200),  # ReadOnly(allow=...)
            ("POST", f"/api/guarded/{book.id}/review", {"stars": 2}, {}, 401),
            ("POST", f"/api/guarded/{book.id}/review", {"stars": 2}, alice, 200),  # PerAction
            ("POST", "/api/guarded/echo", {}, alice, 403),  # PerAction False
            ("POST", "/api/guarded/add", {"title": "X"}, alice, 403),  # ReadOnly default
            ("GET", "/api/guarded/popular", None, {"Authorization": "Bearer nope"}, 401),
        ]
        for method, path, body, headers, status in cases:
            response = await client.request(method, path, body, headers=headers)
            assert response.status == status, (method, path, headers, response.body)


async def test_python_calls_run_the_same_pipeline(api: API):
    books = api.resource("books")
    book = await _book(api)
    reviewed = await books.call("review", book.id, {"stars": 5})
    assert (reviewed.reviews, reviewed.status) == (1, "reviewed")
    assert await books.call("stats") == Stats(count=1)
    with pytest.raises(ValidationError) as err:
        await books.call("review", book.id, {"stars": 0})
    assert err.value.errors[0]["loc"] == ["stars"]
    with pytest.raises(NotFound):
        await books.call("review")  # a detail action needs a pk
    with pytest.raises(NotFound):
        await books.call("stats", book.id)  # and a collection action takes none
    with pytest.raises(NotFound):
        await books.call("nope")
    hidden = await books.collection.insert(Book(title="X", owner="mallory"))
    with pytest.raises(NotFound):  # trusted calls skip permissions, never scope
        await books.call("review", hidden.id, {"stars": 3})
    ctx = Context(api=api, user="mallory")
    assert (await books.call("review", hidden.id, {"stars": 3}, ctx)).reviews == 1
    guarded = GuardedBooks(api.stores["default"])
    with pytest.raises(PermissionDenied):
        await guarded.call("echo", data={}, ctx=Context(user="alice"))


def _resource_with(**members: Any) -> type[Resource[Any]]:
    return type("Bad", (Resource,), {"model": Book, "name": "bad", **members})


def _method() -> Any:
    async def method(self: Any, ctx: Any, data: Any) -> None: ...

    return method


def _detail() -> Any:
    async def method(self: Any, ctx: Any, obj: Any, data: Any) -> None: ...

    return method


def _sync(self: Any, ctx: Any, data: Any) -> None: ...


# each case builds its members when it runs: marking one function twice would mix them up
@pytest.mark.parametrize(
    ("members", "message"),
    [
        (lambda: {"delete": action(_method())}, "cannot be named 'delete'"),
        (lambda: {"get": action(_method())}, "cannot be named 'get'"),
        (lambda: {"scope": action(_method())}, "cannot be named 'scope'"),
        (lambda: {"call": action(_method())}, "cannot be named 'call'"),
        (lambda: {"go": action(methods=["FETCH"])(_method())}, "methods must be some of"),
        (lambda: {"go": action(methods=[])(_method())}, "methods must be some of"),
        (lambda: {"go": action(input=dict)(_method())}, "input must be a tbone.Model"),
        (lambda: {"go": action(detail=True)(_method())}, "takes (self, ctx, obj, data)"),
        (lambda: {"go": action(_detail())}, "takes (self, ctx, data)"),
        (lambda: {"go": action(_sync)}, "must be an async method"),
    ],
)
def test_register_refuses_actions_that_cannot_be_served(members: Any, message: str):
    with pytest.raises(TypeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        API().register(_resource_with(**members()))


def test_a_plain_override_removes_an_inherited_action():
    class Plain(BookResource):
        name = "plain"

        async def echo(self, ctx: Context, data: Any) -> Any:  # type: ignore[override]
            return None

    assert "echo" not in Plain.custom_actions
    assert "review" in Plain.custom_actions


async def test_openapi_lists_actions_with_their_input(api: API):
    doc = api.openapi()
    validate_spec(doc)
    review = doc["paths"]["/api/books/{id}/review"]["post"]
    assert review["operationId"] == "review_books"
    assert review["summary"] == "Review a book: one more review, and the book is reviewed."
    body = review["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Review"}
    assert doc["components"]["schemas"]["Review"]["properties"]["stars"]["maximum"] == 5
    assert review["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Book"
    }
    assert {"404", "422"} <= set(review["responses"])
    popular = doc["paths"]["/api/books/popular"]
    assert set(popular) == {"get", "head"}
    names = [p["name"] for p in popular["get"]["parameters"]]
    assert names == ["min_reviews", "drafts"]
    assert popular["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Book"},
    }
    stats = doc["paths"]["/api/books/stats"]
    assert {stats["get"]["operationId"], stats["post"]["operationId"]} == {
        "stats_get_books",
        "stats_post_books",
    }
    assert "secret" not in doc["components"]["schemas"]["Stats"]["properties"]
    retire = doc["paths"]["/api/books/{id}/retire"]["delete"]
    assert set(retire["responses"]) >= {"204"}
    assert "200" not in retire["responses"]


async def test_tbone_routes_lists_actions(api: API):
    rows = [(r["method"], r["path"], r["action"]) for r in routes(api)]
    assert ("POST", "/api/books/{id}/review", "review (action)") in rows
    assert ("GET,HEAD", "/api/books/popular", "popular (action)") in rows
    assert ("GET,HEAD,POST", "/api/books/stats", "stats (action)") in rows
    # collection actions are listed before the item routes they take precedence over
    index = [r[1] for r in rows]
    assert index.index("/api/books/popular") < index.index("/api/books/{id}")


# -- real servers ----------------------------------------------------------------------------------


def _served_api() -> API:
    api = API(prefix="/api")
    api.register(BookResource)
    return api


@pytest.mark.parametrize("transport", ["aiohttp", "sanic", "asgi"])
async def test_actions_over_real_servers_and_websockets(transport: str):
    with LiveServer(transport, _served_api()) as server:
        book = await server.call(lambda: server.api.resource("books").create({"title": "Dune"}))
        async with httpx.AsyncClient(base_url=server.url) as http:
            got = await http.post(f"/api/books/{book.id}/review", json={"stars": 4})
            assert (got.status_code, got.json()["reviews"]) == (200, 1)
            got = await http.post(f"/api/books/{book.id}/review", json={"stars": 40})
            assert got.status_code == 422
            assert got.json()["errors"][0]["loc"] == ["stars"]
            got = await http.get(f"/api/books/{book.id}/review")
            assert (got.status_code, got.headers["allow"]) == (405, "POST, OPTIONS")
            got = await http.get("/api/books/popular?min_reviews=1")
            assert [b["title"] for b in got.json()] == ["Dune"]
            got = await http.post(f"/api/books/{book.id}/nope")
            assert got.status_code == 404
        ws_url = server.url.replace("http", "ws", 1) + "/api/ws"
        async with (
            connect(ws_url, subprotocols=["tbone.v1"]) as watcher,
            connect(ws_url, subprotocols=["tbone.v1"]) as caller,
        ):  # type: ignore[list-item]
            await watcher.send(json.dumps({"type": "subscribe", "id": 1, "resource": "books"}))
            assert json.loads(await watcher.recv())["type"] == "subscribed"
            frame = {
                "type": "request",
                "id": 7,
                "method": "POST",
                "path": f"/api/books/{book.id}/review",
                "body": {"stars": 5},
            }
            await caller.send(json.dumps(frame))
            answer = json.loads(await asyncio.wait_for(caller.recv(), 10))
            assert (answer["id"], answer["status"], answer["body"]["reviews"]) == (7, 200, 2)
            event = json.loads(await asyncio.wait_for(watcher.recv(), 10))
            assert (event["event"], event["data"]["reviews"]) == ("updated", 2)
            await caller.send(json.dumps({**frame, "id": 8, "body": {"stars": 0}}))
            answer = json.loads(await asyncio.wait_for(caller.recv(), 10))
            assert (answer["status"], answer["body"]["errors"][0]["loc"]) == (422, ["stars"])
            await caller.send(
                json.dumps({**frame, "id": 9, "method": "GET", "path": "/api/books/echo"})
            )
            answer = json.loads(await asyncio.wait_for(caller.recv(), 10))
            assert answer["status"] == 405
            echo = {
                "type": "request",
                "id": 10,
                "method": "POST",
                "path": "/api/books/echo",
                "body": 1,
            }
            await caller.send(json.dumps(echo))
            answer = json.loads(await asyncio.wait_for(caller.recv(), 10))
            assert answer["body"] == {"got": 1, "via": "websocket", "user": None}


# -- atomic operators through the resource ---------------------------------------------------------


async def test_update_takes_atomic_operators_after_its_checks(api: API):
    books = api.resource("books")
    book = await _book(api)
    seen: list[tuple[str, int, int | None]] = []

    @api.on_event
    async def listen(resource: Resource[Any], event: str, obj: Model) -> None:
        seen.append((event, obj.reviews, None))  # type: ignore[attr-defined]

    await asyncio.gather(*(books.update(book.id, inc={"reviews": 1}) for _ in range(50)))
    assert (await books.detail(book.id)).reviews == 50  # none lost
    assert len(seen) == 50
    assert sorted(r for _, r, _ in seen) == list(range(1, 51))
    with pytest.raises(ValidationError) as err:
        await books.update(book.id, {"title": "x"}, inc={"title": 1})
    assert err.value.errors[0]["loc"] == ["title"]
    with pytest.raises(ValidationError) as err:  # the scope reads owner: no operator on it
        await books.update(book.id, {"owner": "eve"}, inc={"reviews": 1}, ctx=Context(api=api))
    assert err.value.errors[0]["loc"] == ["owner"]
    hidden = await books.insert(Book(title="X", owner="mallory"))
    with pytest.raises(NotFound):
        await books.update(hidden.id, inc={"reviews": 1}, ctx=Context(api=api))
    guarded = GuardedBooks(api.stores["default"])
    with pytest.raises(PermissionDenied):  # ReadOnly refuses update to alice
        await guarded.update(book.id, inc={"reviews": 1}, ctx=Context(api=api, user="alice"))
    assert (await books.detail(book.id)).reviews == 50  # nothing refused was applied


async def test_change_applies_operators_and_announces_the_pre_image(api: API):
    book = await _book(api)
    before: list[Any] = []

    async def sink(resource: Any, event: str, obj: Model, prior: Model | None = None) -> None:
        before.append((event, prior))

    plain = BookResource(api.stores["default"], events=sink)
    done = await plain.change(book.id, {"status": "sold"}, inc={"reviews": 2})
    assert (done.status, done.reviews) == ("sold", 2)
    assert before[0][0] == "updated"
    assert before[0][1].reviews == 0
    with pytest.raises(NotFound):
        await plain.remove("missing")
