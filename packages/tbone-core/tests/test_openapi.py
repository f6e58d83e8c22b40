"""OpenAPI 3.1: the document is valid, says what the handler does, and real responses fit it."""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
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
    IsAuthenticated,
    Model,
    Resource,
    computed,
    field,
)
from tbone.http import Request, Response

# -- models and resources ------------------------------------------------------------------------


class Genre(enum.Enum):
    NOVEL = "novel"
    ESSAY = "essay"


class Address(Model, embedded=True):
    city: str
    zip: str | None = None


class Comment(Model, embedded=True):
    text: str
    replies: list[Comment] = field(factory=list)


class Author(Model):
    """Someone who writes books."""

    uid: uuid.UUID = field(primary_key=True)
    name: str = field(min_length=1)
    address: Address | None = None
    password: str = field(write_only=True)


class Book(Model):
    title: str = field(min_length=1, max_length=200)
    author: str
    year: int | None = field(default=None, ge=0, le=3000)
    tags: list[str] = field(factory=list)
    genre: Genre = Genre.NOVEL
    in_print: bool = True
    isbn: str | None = None
    price: Decimal = Decimal("9.99")
    added: dt.datetime = field(factory=lambda: dt.datetime.now(dt.UTC), read_only=True)
    cost: float = field(default=0.0, private=True)
    comments: list[Comment] = field(factory=list)

    @computed
    def label(self) -> str:
        return f"{self.title} ({self.author})"


class Reading(Model):
    at: dt.datetime = field(primary_key=True)
    value: float


class Rate(Model):
    code: Decimal = field(primary_key=True)
    limit: int = 0


class BookResource(Resource[Book]):
    model = Book
    name = "books"
    filter_fields = {
        "author": ["exact", "in"],
        "year": ["exact", "gte", "lte", "nin"],
        "tags": ["contains"],
        "genre": ["exact"],
        "in_print": ["exact"],
        "isbn": ["exists"],
        "added": ["lt", "gte"],
        "title": ["icontains", "startswith"],
    }
    order_fields = ("year", "title")
    default_order = ("-year",)
    search_fields = ("title",)
    page_size = 2
    max_page_size = 50
    max_bulk_size = 10


class AuthorResource(Resource[Author]):
    model = Author
    name = "authors"
    actions = ("list", "detail", "create")
    authenticator = BearerToken({"s3cret": "alice"})
    permissions = (IsAuthenticated(read_anonymously=True),)


class ReadingResource(Resource[Reading]):
    model = Reading
    name = "readings"
    actions = ("list", "detail")
    filter_fields = {"value": ["gt"]}


class RateResource(Resource[Rate]):
    model = Rate
    name = "rates"
    actions = ("replace", "update", "delete")
    filter_fields = {"limit": ["exact", "lt"]}


ALL = (BookResource, AuthorResource, ReadingResource, RateResource)


def make_api(*resources: type[Resource[Any]], **kwargs: Any) -> API:
    api = API(prefix="/api", **kwargs)
    for resource in resources:
        api.register(resource)
    return api


@pytest.fixture
def doc() -> dict[str, Any]:
    return make_api(*ALL).openapi()


# -- helpers -------------------------------------------------------------------------------------

_DOC_URI = "urn:tbone:openapi"


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def pointer(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def deref(doc: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and set(node) == {"$ref"}:
        node = pointer(doc, node["$ref"])
    return node


def params_of(doc: dict[str, Any], path: str, method: str) -> dict[str, dict[str, Any]]:
    item = doc["paths"][path]
    listed = [*item.get("parameters", []), *item[method].get("parameters", [])]
    return {p["name"]: p for p in (deref(doc, p) for p in listed)}


def response_validator(
    doc: dict[str, Any], path: str, method: str, status: int, media: str
) -> Draft202012Validator:
    """A validator for the body the document promises for ``method path`` -> ``status``."""
    response = deref(doc, doc["paths"][path][method]["responses"][str(status)])
    assert media in response["content"], (path, method, status, response)
    where = pointer_to(doc, response["content"][media]["schema"])
    registry: Registry[Any] = Registry().with_resource(
        _DOC_URI, SchemaResource.from_contents(doc, default_specification=DRAFT202012)
    )
    return Draft202012Validator(
        {"$ref": f"{_DOC_URI}#{where}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def pointer_to(doc: dict[str, Any], target: Any) -> str:
    """The JSON pointer of ``target`` (an object inside ``doc``), found by identity."""

    def search(node: Any, here: str) -> str | None:
        if node is target:
            return here
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(value, dict | list):
                escaped = str(key).replace("~", "~0").replace("/", "~1")
                found = search(value, f"{here}/{escaped}")
                if found is not None:
                    return found
        return None

    found = search(doc, "")
    assert found is not None
    return found


class Client:
    def __init__(self, api: API) -> None:
        self.api = api

    async def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: str = "",
        headers: dict[str, str] | None = None,
    ) -> Response:
        hdrs = dict(headers or {})
        raw = b""
        if body is not None:
            raw = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        return await self.api.handle(Request(method, path, query, hdrs, raw))


@pytest.fixture
async def served() -> AsyncIterator[tuple[Client, dict[str, Any]]]:
    api = make_api(*ALL)
    async with api:
        client = Client(api)
        response = await client.send("GET", "/api/openapi.json")
        assert response.status == 200
        yield client, json.loads(response.body)


def check(doc: dict[str, Any], response: Response, path: str, method: str, status: int) -> Any:
    """Assert the real ``response`` has ``status`` and a body the document allows."""
    assert response.status == status, response.body
    media = response.header("Content-Type")
    assert media is not None
    body = json.loads(response.body)
    errors = list(response_validator(doc, path, method, status, media).iter_errors(body))
    assert not errors, [e.message for e in errors]
    return body


# -- the document is valid OpenAPI 3.1 -----------------------------------------------------------


@pytest.mark.parametrize(
    "api",
    [
        pytest.param(make_api(*ALL), id="all"),
        pytest.param(make_api(BookResource), id="books"),
        pytest.param(make_api(ReadingResource, RateResource), id="restricted"),
        pytest.param(
            make_api(BookResource, authenticator=BearerToken({"t": "u"})), id="api-bearer"
        ),
        pytest.param(make_api(), id="empty"),
    ],
)
def test_document_is_valid_openapi_31(api: API) -> None:
    doc = api.openapi()
    assert doc["openapi"] == "3.1.0"
    validate_spec(doc)
    for node in walk(doc):
        if isinstance(node, dict) and "$ref" in node:
            assert not node["$ref"].startswith("#/$defs/"), node
            pointer(doc, node["$ref"])  # resolves


def test_component_schemas_are_valid_2020_12(doc: dict[str, Any]) -> None:
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


async def test_served_document_equals_api_openapi() -> None:
    api = make_api(*ALL)
    response = await api.handle(Request("GET", "/api/openapi.json"))
    assert response.status == 200
    assert json.loads(response.body) == api.openapi()


def test_output_is_deterministic_and_independent_of_registration_order() -> None:
    first = json.dumps(make_api(*ALL).openapi())
    assert json.dumps(make_api(*ALL).openapi()) == first
    assert json.dumps(make_api(*reversed(ALL)).openapi()) == first
    doc = json.loads(first)
    assert list(doc["components"]["schemas"]) == sorted(doc["components"]["schemas"])
    assert [t["name"] for t in doc["tags"]] == ["authors", "books", "rates", "readings"]


# -- operations follow `actions` and the handler -------------------------------------------------


def test_operation_ids_are_unique_and_named_by_action(doc: dict[str, Any]) -> None:
    ids = [op["operationId"] for item in doc["paths"].values() for op in operations(item)]
    assert len(ids) == len(set(ids))
    assert {i for i in ids if i.endswith("_books") and not i.startswith("head")} == {
        "list_books",
        "create_books",
        "get_books",
        "replace_books",
        "update_books",
        "delete_books",
    }
    assert "head_list_books" in ids
    assert "head_get_books" in ids


def operations(item: dict[str, Any]) -> list[dict[str, Any]]:
    verbs = ("get", "head", "post", "put", "patch", "delete")
    return [op for verb, op in item.items() if verb in verbs]


def test_restricted_actions_have_no_operations(doc: dict[str, Any]) -> None:
    paths = doc["paths"]
    assert set(paths["/api/authors"]) == {"get", "head", "post"}
    assert set(paths["/api/authors/{uid}"]) == {"parameters", "get", "head"}
    assert set(paths["/api/readings"]) == {"get", "head"}
    assert set(paths["/api/readings/{at}"]) == {"parameters", "get", "head"}
    assert "/api/rates" not in paths  # neither list nor create
    assert set(paths["/api/rates/{code}"]) == {"parameters", "put", "patch", "delete"}


@pytest.mark.parametrize(
    ("path", "real"),
    [
        ("/api/books", "/api/books"),
        ("/api/books/{id}", "/api/books/x"),
        ("/api/authors", "/api/authors"),
        ("/api/authors/{uid}", f"/api/authors/{uuid.UUID(int=1)}"),
        ("/api/readings", "/api/readings"),
        ("/api/readings/{at}", "/api/readings/2024-01-01T00:00:00Z"),
        ("/api/rates", "/api/rates"),
        ("/api/rates/{code}", "/api/rates/1.5"),
    ],
)
async def test_documented_methods_are_exactly_the_ones_not_refused_with_405(
    path: str, real: str
) -> None:
    api = make_api(*ALL)
    item = api.openapi()["paths"].get(path, {})
    async with api:
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
            response = await api.handle(Request(method, real))
            documented = method.lower() in item
            assert (response.status != 405) == documented, (method, path, response.status)


# -- parameters ----------------------------------------------------------------------------------


def test_one_parameter_per_allowed_filter_lookup(doc: dict[str, Any]) -> None:
    names = set(params_of(doc, "/api/books", "get"))
    filters = names - {"order_by", "limit", "offset", "cursor", "fields", "q"}
    assert filters == {
        "author",
        "author__in",
        "year",
        "year__gte",
        "year__lte",
        "year__nin",
        "tags__contains",
        "genre",
        "in_print",
        "isbn__exists",
        "added__lt",
        "added__gte",
        "title__icontains",
        "title__startswith",
    }
    assert "year__lt" not in names  # not allowed, so not documented


def test_filter_parameters_are_typed_by_their_field(doc: dict[str, Any]) -> None:
    params = params_of(doc, "/api/books", "get")

    def schema(name: str) -> dict[str, Any]:
        return dict(params[name]["schema"])

    assert schema("year") == {"type": "integer"}  # never null in a query string
    assert schema("year__gte") == {"type": "integer"}
    assert schema("in_print") == {"type": "boolean"}
    assert schema("isbn__exists") == {"type": "boolean"}
    assert schema("added__lt") == {"type": "string", "format": "date-time"}
    assert schema("tags__contains") == {"type": "string"}
    assert schema("title__icontains") == {"type": "string"}
    assert schema("genre")["enum"] == ["novel", "essay"]
    for name, item in (("author__in", {"type": "string"}), ("year__nin", {"type": "integer"})):
        assert schema(name) == {"type": "array", "items": item}
        assert params[name]["style"] == "form"
        assert params[name]["explode"] is False  # a=1,2 — comma-separated, as the handler reads


def test_paging_ordering_projection_and_search_parameters(doc: dict[str, Any]) -> None:
    params = params_of(doc, "/api/books", "get")
    assert params["limit"]["schema"]["maximum"] == 50
    assert params["limit"]["schema"]["default"] == 2
    assert params["offset"]["schema"]["minimum"] == 0
    assert params["cursor"]["schema"] == {"type": "string"}
    order = params["order_by"]["schema"]["items"]["enum"]
    assert sorted(order) == ["-title", "-year", "title", "year"]
    fields = params["fields"]["schema"]["items"]["enum"]
    assert "label" in fields  # computed
    assert "cost" not in fields  # private
    assert "q" in params
    readings = params_of(doc, "/api/readings", "get")
    assert "q" not in readings  # no search_fields
    assert "order_by" not in readings  # no order_fields
    assert set(readings) - {"limit", "offset", "cursor", "fields"} == {"value__gt"}


def test_filter_named_like_a_reserved_parameter_is_documented_with_its_lookup() -> None:
    api = make_api(RateResource)
    rates = [r for r in api.openapi()["paths"] if r.startswith("/api/rates")]
    assert rates == ["/api/rates/{code}"]  # rates have no list; check the helper directly
    from tbone.openapi.parameters import filter_parameters

    names = [p["name"] for p in filter_parameters(api.resources["rates"])]
    assert names == ["limit__exact", "limit__lt"]


@pytest.mark.parametrize(
    ("path", "name", "schema"),
    [
        ("/api/books/{id}", "id", {"type": "string"}),
        ("/api/authors/{uid}", "uid", {"type": "string", "format": "uuid"}),
        ("/api/readings/{at}", "at", {"type": "string", "format": "date-time"}),
        ("/api/rates/{code}", "code", {"type": "string", "format": "decimal"}),
    ],
)
def test_path_parameter_is_typed_by_the_primary_key(
    doc: dict[str, Any], path: str, name: str, schema: dict[str, Any]
) -> None:
    (param,) = doc["paths"][path]["parameters"]
    assert param["name"] == name
    assert param["in"] == "path"
    assert param["required"] is True
    assert param["schema"] == schema


def test_conditional_headers_and_their_statuses(doc: dict[str, Any]) -> None:
    get = doc["paths"]["/api/books/{id}"]["get"]
    assert "If-None-Match" in params_of(doc, "/api/books/{id}", "get")
    assert "304" in get["responses"]
    assert deref(doc, get["responses"]["200"]["headers"]["ETag"])["schema"] == {"type": "string"}
    for verb in ("put", "patch", "delete"):
        op = doc["paths"]["/api/books/{id}"][verb]
        assert "If-Match" in params_of(doc, "/api/books/{id}", verb)
        assert "412" in op["responses"]
    created = doc["paths"]["/api/books"]["post"]["responses"]["201"]
    assert set(created["headers"]) == {"Location", "ETag"}
    assert "412" not in doc["paths"]["/api/books"]["post"]["responses"]


# -- schemas -------------------------------------------------------------------------------------


def test_model_schemas_private_read_only_write_only_and_nesting(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    book = schemas["Book"]["properties"]
    assert "cost" not in book
    assert not any(isinstance(n, dict) and "cost" in n for n in walk(doc["components"]))
    assert book["added"]["readOnly"] is True
    assert book["id"]["readOnly"] is True
    assert book["label"]["readOnly"] is True
    assert book["comments"]["items"] == {"$ref": "#/components/schemas/Comment"}
    assert schemas["Comment"]["properties"]["replies"]["items"] == {
        "$ref": "#/components/schemas/Comment"
    }
    author = schemas["Author"]
    assert author["properties"]["password"]["writeOnly"] is True
    assert "password" not in author["required"]  # responses never carry it...
    body = doc["paths"]["/api/authors"]["post"]["requestBody"]["content"]["application/json"]
    single = body["schema"]["oneOf"][0]
    assert single == {"allOf": [{"$ref": "#/components/schemas/Author"}], "required": ["password"]}
    assert {"Address", "Genre"} & set(schemas) == {"Address"}  # enums stay inline


def test_bulk_create_request_and_response(doc: dict[str, Any]) -> None:
    post = doc["paths"]["/api/books"]["post"]
    single, bulk = post["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert single == {"$ref": "#/components/schemas/Book"}
    assert bulk == {"type": "array", "items": single, "maxItems": 10}
    assert "413" in post["responses"]


def test_patch_body_requires_nothing(doc: dict[str, Any]) -> None:
    patch = doc["paths"]["/api/rates/{code}"]["patch"]["requestBody"]["content"]
    schema = deref(doc, patch["application/json"]["schema"])
    assert "required" not in schema
    assert schema["properties"].keys() == doc["components"]["schemas"]["Rate"]["properties"].keys()


def test_problem_responses(doc: dict[str, Any]) -> None:
    responses = doc["components"]["responses"]
    for response in responses.values():
        assert list(response["content"]) == ["application/problem+json"]
    problem = doc["components"]["schemas"]["Problem"]
    assert problem["required"] == ["type", "title", "status"]
    books = doc["paths"]["/api/books/{id}"]["put"]["responses"]
    assert {"400", "404", "409", "412", "413", "415", "422", "503", "default"} <= set(books)
    assert "401" not in books  # no authenticator on books
    authors = doc["paths"]["/api/authors"]["post"]["responses"]
    assert {"401", "403"} <= set(authors)
    assert "WWW-Authenticate" in deref(doc, authors["401"])["headers"]


# -- security ------------------------------------------------------------------------------------


def test_bearer_security_per_resource(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert schemes == {"bearerAuth": {"type": "http", "scheme": "bearer"}}
    assert "security" not in doc  # the API itself has no authenticator
    authors = doc["paths"]["/api/authors"]
    assert authors["get"]["security"] == [{"bearerAuth": []}, {}]  # read anonymously
    assert authors["post"]["security"] == [{"bearerAuth": []}]
    assert doc["paths"]["/api/books"]["get"]["security"] == []


def test_api_wide_bearer_and_no_security_without_it() -> None:
    doc = make_api(BookResource, authenticator=BearerToken({"t": "u"})).openapi()
    assert doc["security"] == [{"bearerAuth": []}, {}]
    plain = make_api(BookResource).openapi()
    assert "securitySchemes" not in plain["components"]
    assert not any(isinstance(n, dict) and "security" in n for n in walk(plain))


def test_two_models_with_one_name_are_refused() -> None:
    other = type("Book", (Model,), {"__annotations__": {"x": int}, "__module__": __name__})

    class OtherResource(Resource[Any]):
        model = other
        name = "others"

    with pytest.raises(ValueError, match="'Book'"):
        make_api(BookResource, OtherResource).openapi()


# -- real responses fit the document -------------------------------------------------------------

BOOK = {"title": "Dune", "author": "Herbert", "year": 1965, "tags": ["scifi"], "genre": "novel"}


async def test_real_create_detail_and_list_fit(served: tuple[Client, dict[str, Any]]) -> None:
    client, doc = served
    response = await client.send("POST", "/api/books", {**BOOK, "comments": [{"text": "a"}]})
    created = check(doc, response, "/api/books", "post", 201)
    assert response.header("Location") == f"/api/books/{created['id']}"
    detail = await client.send("GET", f"/api/books/{created['id']}")
    check(doc, detail, "/api/books/{id}", "get", 200)
    etag = detail.header("ETag")
    assert etag is not None
    again = await client.send("GET", f"/api/books/{created['id']}", headers={"If-None-Match": etag})
    assert again.status == 304
    assert "304" in doc["paths"]["/api/books/{id}"]["get"]["responses"]
    page = await client.send("GET", "/api/books", query="year__gte=1900&order_by=-year,title")
    body = check(doc, page, "/api/books", "get", 200)
    assert body["meta"]["total_count"] == 1


async def test_real_bulk_create_and_paging_fit(served: tuple[Client, dict[str, Any]]) -> None:
    client, doc = served
    books = [{**BOOK, "title": f"Dune {i}"} for i in range(3)]
    created = check(doc, await client.send("POST", "/api/books", books), "/api/books", "post", 201)
    assert len(created["objects"]) == 3
    page = check(doc, await client.send("GET", "/api/books"), "/api/books", "get", 200)
    assert page["meta"]["next"] is not None
    second = await client.send("GET", "/api/books", query="offset=2")
    assert check(doc, second, "/api/books", "get", 200)["meta"]["previous"] is not None


async def test_real_write_only_and_uuid_resource_fits(
    served: tuple[Client, dict[str, Any]],
) -> None:
    client, doc = served
    author = {"uid": str(uuid.uuid4()), "name": "Le Guin", "password": "pw"}
    auth = {"Authorization": "Bearer s3cret"}
    response = await client.send("POST", "/api/authors", author, headers=auth)
    created = check(doc, response, "/api/authors", "post", 201)
    assert "password" not in created
    listed = await client.send("GET", "/api/authors")
    check(doc, listed, "/api/authors", "get", 200)
    anonymous = await client.send("POST", "/api/authors", author)
    check(doc, anonymous, "/api/authors", "post", 401)


@pytest.mark.parametrize(
    ("method", "path", "doc_path", "body", "query", "status"),
    [
        ("POST", "/api/books", "/api/books", {"title": ""}, "", 422),
        ("POST", "/api/books", "/api/books", [BOOK, {"author": 3}], "", 422),
        ("POST", "/api/books", "/api/books", [BOOK] * 11, "", 413),
        ("GET", "/api/books", "/api/books", None, "year__lt=3", 400),
        ("GET", "/api/books", "/api/books", None, "year=abc", 400),
        ("GET", "/api/books/nope", "/api/books/{id}", None, "", 404),
        ("PATCH", "/api/rates/1.5", "/api/rates/{code}", {"limit": 1}, "", 404),
    ],
)
async def test_real_problems_fit(
    served: tuple[Client, dict[str, Any]],
    method: str,
    path: str,
    doc_path: str,
    body: Any,
    query: str,
    status: int,
) -> None:
    client, doc = served
    response = await client.send(method, path, body, query=query)
    assert response.header("Content-Type") == "application/problem+json"
    problem = check(doc, response, doc_path, method.lower(), status)
    if status == 422:
        assert problem["errors"]


async def test_real_stale_if_match_fits(served: tuple[Client, dict[str, Any]]) -> None:
    client, doc = served
    posted = await client.send("POST", "/api/books", BOOK)
    created, etag = json.loads(posted.body), posted.header("ETag")
    assert etag is not None
    where = f"/api/books/{created['id']}"
    updated = await client.send("PATCH", where, {"year": 1966}, headers={"If-Match": etag})
    check(doc, updated, "/api/books/{id}", "patch", 200)
    stale = await client.send("PATCH", where, {"year": 1967}, headers={"If-Match": etag})
    check(doc, stale, "/api/books/{id}", "patch", 412)
    replaced = await client.send("PUT", where, {"title": "Dune", "author": "Frank Herbert"})
    assert check(doc, replaced, "/api/books/{id}", "put", 200)["author"] == "Frank Herbert"


async def test_answers_to_fields_fit_their_schema(served: tuple[Client, dict[str, Any]]) -> None:
    client, doc = served
    created = json.loads((await client.send("POST", "/api/books", BOOK)).body)
    where = f"/api/books/{created['id']}"
    detail = await client.send("GET", where, query="fields=title")
    assert check(doc, detail, "/api/books/{id}", "get", 200).keys() == {"id", "title"}
    page = await client.send("GET", "/api/books", query="fields=year")
    assert check(doc, page, "/api/books", "get", 200)["objects"][0].keys() == {"id", "year"}
