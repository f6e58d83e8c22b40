"""References (``tbone.Ref``): the field type, checks on write, ``expand`` on read.

Store calls are counted on real memory stores whose read methods are wrapped (not mocked):
each expanded relation of a page must cost one query, whatever the page size.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry
from referencing import Resource as SchemaResource
from referencing.jsonschema import DRAFT202012

from tbone import (
    API,
    BearerToken,
    Context,
    Model,
    PerAction,
    ReadOnly,
    Ref,
    Resource,
    ValidationError,
    action,
    field,
)
from tbone.data import references_of
from tbone.storage import Store

from .conftest import Client


class Publisher(Model):
    name: str
    country: str = ""


class Author(Model):
    name: str
    owner: str = ""
    publisher: Ref[Publisher] | None = None
    favourite: Ref[Book] | None = None
    fee: float = field(default=0.0, private=True)


class Book(Model):
    title: str
    author: Ref[Author]
    editors: list[Ref[Author]] = field(factory=list)
    draft_of: Ref[Book] | None = None
    note: str = field(default="", write_only=True)
    hidden_ref: Ref[Author] | None = field(default=None, private=True)


class Employee(Model):
    name: str
    manager: Ref[Employee] | None = None


class Assign(Model, embedded=True):
    author: Ref[Author]


class AuthorResource(Resource[Author]):
    model = Author
    name = "authors"

    def scope(self, ctx: Context) -> Any:
        return {"owner__in": ["", ctx.user or ""]}


class BookResource(Resource[Book]):
    model = Book
    name = "books"
    page_size = 50
    max_page_size = 100

    @action(detail=True, methods=["POST"], input=Assign)
    async def assign(self, ctx: Context, obj: Book, data: Assign) -> Book:
        return await self.change(obj.id, {"author": data.author})


class PublisherResource(Resource[Publisher]):
    model = Publisher
    name = "publishers"
    # private publishers: anonymous callers may list but not see one
    permissions = (PerAction({"detail": False}),)


class Counter:
    """Counts the read calls a real store receives (its methods wrapped, still called)."""

    def __init__(self, *stores: Store) -> None:
        self.calls: list[str] = []
        for store in stores:
            for name in ("find_docs", "get_docs", "count_docs"):
                setattr(store, name, self._wrap(name, getattr(store, name)))

    def _wrap(self, name: str, method: Callable[..., Awaitable[Any]]) -> Any:
        async def counted(spec: Any, *args: Any) -> Any:
            self.calls.append(f"{name}:{spec.name}")
            return await method(spec, *args)

        return counted

    def reset(self) -> list[str]:
        calls, self.calls = self.calls, []
        return calls


def _api() -> API:
    api = API(prefix="/api", stores={"default": "memory://", "people": "memory://"})
    api.register(BookResource)
    api.register(AuthorResource, store="people")
    api.register(PublisherResource, store="people")
    return api


@pytest.fixture
async def api() -> AsyncIterator[API]:
    api = _api()
    async with api:
        yield api


@pytest.fixture
def client(api: API) -> Client:
    return Client(api)


async def _author(api: API, name: str, **data: Any) -> Author:
    obj: Author = await api.resource("authors").insert(Author(name=name, **data))
    return obj


async def _book(api: API, title: str, author: Author, **data: Any) -> Book:
    obj: Book = await api.resource("books").insert(Book(title=title, author=author.id, **data))
    return obj


# -- the type ----------------------------------------------------------------------------------


def test_a_reference_has_its_targets_key_type_and_schema():
    schema = Book.json_schema()["properties"]
    assert schema["author"] == {"type": "string", "x-tbone-ref": "Author"}
    assert schema["editors"]["items"] == {"type": "string", "x-tbone-ref": "Author"}
    assert references_of(Book)["editors"].many is True
    assert set(references_of(Book)) == {"author", "editors", "draft_of", "hidden_ref"}
    assert set(references_of(Employee)) == {"manager"}  # a model may refer to itself
    with pytest.raises(ValidationError) as err:
        Book.from_data({"title": "x", "author": 3, "editors": ["a", None]})
    assert sorted(e["loc"] for e in err.value.errors) == [["author"], ["editors", 1]]
    assert Book.from_data({"title": "x", "author": "a1"}).to_data()["author"] == "a1"


def test_ref_refuses_what_has_no_key():
    with pytest.raises(TypeError, match=r"tbone\.Model subclass"):
        Ref[int]  # type: ignore[misc]
    with pytest.raises(TypeError, match="embedded"):
        Ref[Assign]  # type: ignore[misc]


async def test_an_api_refuses_a_reference_no_resource_serves():
    api = API(prefix="/api")
    api.register(BookResource)
    with pytest.raises(TypeError, match=r"Book\.author refers to Author, but no registered"):
        await api.startup()


# -- writes ------------------------------------------------------------------------------------


async def test_a_missing_and_a_hidden_object_get_the_same_422(api: API, client: Client):
    hidden = await _author(api, "H", owner="mallory")
    answers = []
    for key in ("no-such-author", hidden.id):
        response = await client.request("POST", "/api/books", {"title": "x", "author": key})
        assert response.status == 422
        body = json.loads(response.body)
        answers.append((body["errors"], body["detail"]))
    assert answers[0] == answers[1]
    assert answers[0][0] == [
        {
            "loc": ["author"],
            "msg": "refers to no authors object you may see (by its id)",
            "type": "reference",
        }
    ]
    assert (await api.resource("books").list()).total_count == 0  # nothing stored


async def test_every_bad_reference_is_located(api: API, client: Client):
    good = await _author(api, "A")
    items = [
        {"title": "ok", "author": good.id, "editors": [good.id]},
        {"title": "bad", "author": good.id, "editors": [good.id, "nope", "nope2"]},
    ]
    response = await client.request("POST", "/api/books", items)
    assert response.status == 422
    locs = [e["loc"] for e in json.loads(response.body)["errors"]]
    assert locs == [[1, "editors", 1], [1, "editors", 2]]
    assert (await api.resource("books").list()).total_count == 0


async def test_visibility_is_the_callers(api: API, client: Client):
    mine = await _author(api, "Mine", owner="alice")
    as_alice = Context(api=api, user="alice")
    book = await api.resource("books").create({"title": "x", "author": mine.id}, as_alice)
    assert book.author == mine.id
    with pytest.raises(ValidationError):  # anonymous callers may not see alice's author
        await api.resource("books").create({"title": "y", "author": mine.id}, Context(api=api))


async def test_updates_check_only_the_references_they_bring(api: API, client: Client):
    a = await _author(api, "A")
    book = await _book(api, "Dune", a)
    await api.resource("authors").collection.update(a.id, {"owner": "mallory"})  # a now hidden
    got = await client.json("PATCH", f"/api/books/{book.id}", {"title": "Dune!"}, status=200)
    assert got["author"] == a.id  # kept: not the caller's reference to answer for
    response = await client.request("PATCH", f"/api/books/{book.id}", {"editors": [a.id]})
    assert json.loads(response.body)["errors"][0]["loc"] == ["editors", 0]
    response = await client.request("PUT", f"/api/books/{book.id}", {"title": "t", "author": "x"})
    assert response.status == 422
    b = await _author(api, "B")
    got = await client.json(
        "PUT", f"/api/books/{book.id}", {"title": "t", "author": b.id}, status=200
    )
    assert got["author"] == b.id


async def test_action_inputs_are_checked(api: API, client: Client):
    a = await _author(api, "A")
    hidden = await _author(api, "H", owner="mallory")
    book = await _book(api, "Dune", a)
    response = await client.request("POST", f"/api/books/{book.id}/assign", {"author": hidden.id})
    assert response.status == 422
    assert json.loads(response.body)["errors"][0]["loc"] == ["author"]
    b = await _author(api, "B")
    got = await client.json("POST", f"/api/books/{book.id}/assign", {"author": b.id}, status=200)
    assert got["author"] == b.id


async def test_the_target_permission_hides_objects_too(api: API, client: Client):
    pub = await api.resource("publishers").insert(Publisher(name="P"))
    response = await client.request("POST", "/api/authors", {"name": "A", "publisher": pub.id})
    assert response.status == 422  # publishers refuse detail to everyone over HTTP


# -- expand ------------------------------------------------------------------------------------


async def test_expand_embeds_objects_as_the_caller_sees_them(api: API, client: Client):
    a = await _author(api, "A", fee=99.0)
    hidden = await _author(api, "H", owner="mallory")
    book = await _book(api, "Dune", a, editors=[hidden.id, a.id])
    page = await client.json("GET", "/api/books", query="expand=author,editors", status=200)
    got = page["objects"][0]
    assert got["author"] == {
        "id": a.id,
        "name": "A",
        "owner": "",
        "publisher": None,
        "favourite": None,
    }
    assert got["editors"] == [None, got["author"]]  # hidden: null; private fields never
    detail = await client.json("GET", f"/api/books/{book.id}", query="expand=author", status=200)
    assert detail["author"] == got["author"]
    assert "fee" not in json.dumps(page)


async def test_expand_follows_dotted_paths_and_loops(api: API, client: Client):
    pub = await api.resource("publishers").insert(Publisher(name="P"))
    a = await _author(api, "A", publisher=pub.id)
    book = await _book(api, "Dune", a)
    await api.resource("authors").collection.update(a.id, {"favourite": book.id})
    got = await client.json(
        "GET", f"/api/books/{book.id}", query="expand=author.favourite.author", status=200
    )
    assert got["author"]["favourite"]["title"] == "Dune"
    assert got["author"]["favourite"]["author"]["name"] == "A"  # a loop, bounded by depth
    got = await client.json(
        "GET", f"/api/books/{book.id}", query="expand=author.publisher", status=200
    )
    assert got["author"]["publisher"] is None  # publishers refuse detail: invisible


async def test_one_query_per_relation_per_page(api: API, client: Client):
    counter = Counter(api.stores["default"], api.stores["people"])
    pubs = [await api.resource("publishers").insert(Publisher(name=f"P{i}")) for i in range(3)]
    authors = [await _author(api, f"A{i}", favourite=None) for i in range(10)]
    for i, a in enumerate(authors):
        await api.resource("authors").collection.update(a.id, {"publisher": pubs[i % 3].id})
    for i in range(40):
        await _book(api, f"B{i}", authors[i % 10], editors=[authors[(i + 1) % 10].id])
    counter.reset()
    await client.json("GET", "/api/books", query="limit=40", status=200)
    plain = counter.reset()
    page = await client.json(
        "GET", "/api/books", query="limit=40&expand=author.favourite,editors", status=200
    )
    assert len(page["objects"]) == 40
    calls = counter.reset()
    assert sorted(calls) == sorted([*plain, "find_docs:authors", "find_docs:authors"])
    for small in (1, 5):  # the page size does not change the count
        await client.json("GET", "/api/books", query=f"limit={small}&expand=author", status=200)
        assert counter.reset().count("find_docs:authors") == 1
    api.resource("publishers").permissions = ()  # type: ignore[misc]  # now visible
    page = await client.json(
        "GET", "/api/books", query="limit=40&expand=author.publisher", status=200
    )
    assert {b["author"]["publisher"]["name"] for b in page["objects"]} == {"P0", "P1", "P2"}
    assert counter.reset().count("find_docs:publishers") == 1


@pytest.mark.parametrize(
    ("expand", "message"),
    [
        ("title", "cannot expand 'title'"),
        ("author.name", "cannot expand 'author.name'"),
        ("nope", "cannot expand 'nope'"),
        ("hidden_ref", "cannot expand 'hidden_ref'"),  # private: not even its name
        ("author.favourite.author.favourite", "at most 3 references deep"),
        (".".join(["author", "favourite"] * 500), "at most 3 references deep"),
        (",".join(["author"] * 11), "at most 10 paths"),
        ("x" * 10_000, "cannot expand 'xxxx"),
    ],
)
async def test_bad_expand_is_a_400(client: Client, expand: str, message: str):
    for path in ("/api/books", "/api/books/any-id"):
        response = await client.request("GET", path, query=f"expand={expand}")
        assert response.status == 400, response.body
        body = json.loads(response.body)
        assert body["errors"][0]["loc"] == ["expand"]
        assert message in body["errors"][0]["msg"]
        assert len(response.body) < 2000  # the echo of a long path is cut


async def test_expand_on_a_resource_without_references(api: API, client: Client):
    response = await client.request("GET", "/api/publishers", query="expand=name")
    assert json.loads(response.body)["errors"][0]["msg"] == "cannot expand 'name'; allowed: none"
    await client.json("GET", "/api/publishers", query="expand=", status=200)


async def test_expand_from_python(api: API):
    a = await _author(api, "A")
    book = await _book(api, "Dune", a)
    books = api.resource("books")
    [got] = await books.expanded([book], "author")
    assert got["author"]["name"] == "A"
    [got] = await books.expanded([book], ["author", "editors"], Context(api=api, user="x"))
    assert got["author"]["name"] == "A"
    with pytest.raises(ValidationError):
        await books.expanded([book], "title")


class _Tokens(BearerToken):
    def __init__(self) -> None:
        super().__init__({"m": "mallory"})


async def test_targets_with_their_own_authenticator_see_the_caller_their_way():
    class PrivateAuthors(AuthorResource):
        authenticator = _Tokens()
        permissions = (ReadOnly(),)

    api = API(prefix="/api")
    api.register(BookResource)
    api.register(PrivateAuthors)
    api.register(PublisherResource)
    async with api:
        client = Client(api)
        mal = await api.resource("authors").insert(Author(name="M", owner="mallory"))
        await api.resource("books").insert(Book(title="T", author=mal.id))
        anon = await client.json("GET", "/api/books", query="expand=author", status=200)
        assert anon["objects"][0]["author"] is None
        headers = {"Authorization": "Bearer m"}
        seen = await client.json(
            "GET", "/api/books", query="expand=author", headers=headers, status=200
        )
        assert seen["objects"][0]["author"]["name"] == "M"
        wrong = {"Authorization": "Bearer wrong"}
        got = await client.json(
            "GET", "/api/books", query="expand=author", headers=wrong, status=200
        )
        assert got["objects"][0]["author"] is None  # the authors' authenticator refuses it


async def test_openapi_documents_expand_and_references(api: API):
    doc = api.openapi()
    validate_spec(doc)
    params = {p["name"]: p for p in doc["paths"]["/api/books"]["get"]["parameters"]}
    enum = params["expand"]["schema"]["items"]["enum"]
    assert {"author", "editors", "draft_of", "author.publisher", "author.favourite"} <= set(enum)
    assert "hidden_ref" not in enum
    assert "author.favourite.author.favourite" not in enum
    detail = {p.get("name") for p in doc["paths"]["/api/books/{id}"]["get"]["parameters"]}
    assert "expand" in detail
    author = doc["components"]["schemas"]["Book"]["properties"]["author"]
    assert author == {"type": "string", "x-tbone-ref": "Author", "x-tbone-resource": "authors"}
    assert "expand" not in {p["name"] for p in doc["paths"]["/api/publishers"]["get"]["parameters"]}


async def test_openapi_describes_expanded_answers(api: API, client: Client):
    pub = await api.resource("publishers").insert(Publisher(name="P"))
    a = await _author(api, "A", publisher=pub.id)
    hidden = await _author(api, "H", owner="mallory")
    book = await _book(api, "Dune", a, editors=[a.id, hidden.id])
    api.resource("publishers").permissions = ()  # type: ignore[misc]  # visible: embedded
    doc = api.openapi()
    schemas = doc["components"]["schemas"]
    assert schemas["BookExpanded"]["properties"]["author"]["anyOf"][1] == {
        "$ref": "#/components/schemas/AuthorExpanded"
    }
    registry: Registry[Any] = Registry().with_resource(
        "urn:doc", SchemaResource.from_contents(doc, default_specification=DRAFT202012)
    )
    ops = doc["paths"]
    validator: Draft202012Validator
    for path, where, query in [
        ("/api/books", "/api/books", "expand=author.publisher,editors"),
        (f"/api/books/{book.id}", "/api/books/{id}", "expand=author,editors&fields=title"),
        (f"/api/books/{book.id}", "/api/books/{id}", ""),
    ]:
        body = await client.json("GET", path, query=query, status=200)
        assert "200" in ops[where]["get"]["responses"]
        pointer = f"/paths/{where.replace('/', '~1')}/get/responses/200/content/application~1json"
        validator = Draft202012Validator({"$ref": f"urn:doc#{pointer}/schema"}, registry=registry)
        validator.validate(body)
    unexpanded = await client.json("GET", f"/api/books/{book.id}", status=200)
    with pytest.raises(Exception, match="is not valid"):  # the check can fail: a wrong shape
        validator.validate({**unexpanded, "author": {"name": 3}})
