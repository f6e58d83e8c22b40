"""What outside testing found (issue 8), one test per finding, through the sans-io handler.

The same inputs run on real servers, both adapters and every store in tests/hostile/.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tbone import API, BearerToken, Model, Q, QueryLimits, Resource, field
from tbone.resources import Context

from .conftest import Client


class Stamp(Model, embedded=True):
    label: str
    checked_by: str = field(default="server", read_only=True)
    cost: int = field(default=7, private=True)


class Item(Model):
    name: str = field(min_length=1)
    owner: str = field(default="", read_only=True)
    stamp: Stamp | None = None
    stamps: list[Stamp] = field(factory=list)
    by_key: dict[str, Stamp] = field(factory=dict)
    extra: Any = None
    year: int | None = None
    secret: str = field(default="", private=True)


class ItemResource(Resource[Item]):
    model = Item
    name = "items"
    filter_fields = {"name": ["exact", "in"], "year": ["exact", "gte", "in"]}
    order_fields = ("name", "year")
    search_fields = ("name",)
    query_limits = QueryLimits(max_values=50, max_filters=5, max_search_terms=4)

    def scope(self, ctx: Context) -> Q | None:
        return Q(owner=ctx.user) if ctx.user else None

    async def before_create(self, ctx: Context, data: dict[str, Any]) -> None:
        data["owner"] = ctx.user or ""


class Numbered(Model):
    number: int = field(primary_key=True)
    title: str


class NumberedResource(Resource[Numbered]):
    model = Numbered
    name = "numbered"


@pytest.fixture
async def api() -> AsyncIterator[API]:
    api = API(prefix="/api", stores={"default": "memory://"})
    api.register(ItemResource)
    api.register(NumberedResource)
    async with api:
        yield api


@pytest.fixture
def client(api: API) -> Client:
    return Client(api)


async def stored(api: API) -> list[dict[str, Any]]:
    return [i.to_data(full=True) for i in await api.resource("items").collection.find()]


STAMPED = {
    "name": "n",
    "stamp": {"label": "a", "checked_by": "me", "cost": 1},
    "stamps": [{"label": "b", "checked_by": "me"}],
    "by_key": {"k": {"label": "c", "checked_by": "me"}},
}


# -- 1. field rules at every depth ------------------------------------------------------------


async def test_private_fields_inside_embedded_models_are_unknown_to_clients(
    api: API, client: Client
) -> None:
    response = await client.request("POST", "/api/items", STAMPED)
    assert response.status == 422
    errors = json.loads(response.body)["errors"]
    assert {"loc": ["stamp", "cost"], "msg": "unknown field", "type": "extra_forbidden"} in errors
    bulk = await client.request("POST", "/api/items", [{"name": "x"}, STAMPED])
    assert bulk.status == 422
    assert await stored(api) == []


async def test_read_only_fields_inside_embedded_models_keep_their_server_values(
    api: API, client: Client
) -> None:
    body = {**STAMPED, "stamp": {"label": "a", "checked_by": "me"}}
    created = await client.json("POST", "/api/items", body, status=201)
    assert created["stamp"] == {"label": "a", "checked_by": "server"}
    assert created["stamps"] == [{"label": "b", "checked_by": "server"}]
    assert created["by_key"] == {"k": {"label": "c", "checked_by": "server"}}
    bulk = await client.json("POST", "/api/items", [body], status=201)
    assert bulk["objects"][0]["stamp"]["checked_by"] == "server"


async def test_patch_of_an_embedded_object_keeps_server_set_nested_values(
    api: API, client: Client
) -> None:
    created = await client.json(
        "POST", "/api/items", {"name": "n", "stamp": {"label": "a"}}, status=201
    )
    books = api.resource("items").collection
    item = await books.get(created["id"])
    assert item is not None
    assert item.stamp is not None
    item.stamp.checked_by, item.stamp.cost = "auditor", 99
    await books.replace(item)
    url = f"/api/items/{created['id']}"
    patched = await client.json(
        "PATCH", url, {"stamp": {"label": "b", "checked_by": "x"}}, status=200
    )
    assert patched["stamp"] == {"label": "b", "checked_by": "auditor"}
    again = await books.get(created["id"])
    assert again is not None
    assert again.stamp is not None
    assert (again.stamp.checked_by, again.stamp.cost) == ("auditor", 99)
    replaced = await client.json("PUT", url, {"name": "m", "stamp": {"label": "c"}}, status=200)
    assert replaced["stamp"] == {"label": "c", "checked_by": "auditor"}


# -- 2. hidden fields are refused as filters, orderings and search fields ---------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("filter_fields", {"secret": ["exact"]}),
        ("filter_fields", {"stamp.cost": ["gte"]}),
        ("order_fields", ("secret",)),
        ("default_order", ("-secret",)),
        ("search_fields", ("secret",)),
    ],
)
def test_register_refuses_hidden_fields_in_query_options(option: str, value: Any) -> None:
    resource = type("Leaky", (ItemResource,), {option: value, "name": "leaky"})
    with pytest.raises(TypeError, match="private"):
        API().register(resource)


# -- 3. bad JSON values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "\\ud800"}',
        b'{"name": "ok", "extra": {"\\udfff": 1}}',
        b'{"name": "ok", "\\ud83d": 1}',
        b'{"name": "ok", "extra": 1e400}',
        b'{"name": "ok", "extra": -1e400}',
        b'{"name": "ok", "extra": ' + b"[" * 500 + b"]" * 500 + b"}",
        b'{"name": "ok", "extra": ' + b"[" * 975 + b"]" * 975 + b"}",
        b'{"name": "ok", "extra": ' + b'{"a":' * 700 + b"1" + b"}" * 700 + b"}",
    ],
)
async def test_bad_json_values_are_400_and_store_nothing(
    api: API, client: Client, body: bytes
) -> None:
    response = await client.request(
        "POST", "/api/items", body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400, response.body[:200]
    assert await stored(api) == []
    assert (await client.request("GET", "/api/items")).status == 200


async def test_a_valid_surrogate_pair_is_text(client: Client) -> None:
    body = b'{"name": "\\ud83d\\ude00"}'
    response = await client.request(
        "POST", "/api/items", body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 201
    assert json.loads(response.body)["name"] == "\U0001f600"


async def test_a_url_that_is_not_utf8_is_400(client: Client) -> None:
    assert (await client.request("GET", "/api/items/%ED%A0%80")).status == 400
    assert (await client.request("GET", "/api/items/%FF")).status == 400


# -- 5. bounded work: limits on what one query may ask ----------------------------------------


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("name__in=" + ",".join(str(i) for i in range(51)), "at most 50 values"),
        ("name__in=" + ",".join(str(i) for i in range(100_000)), "at most 50 values"),
        ("q=" + "+".join(["w"] * 5), "at most 4 words"),
        ("&".join(f"year__gte={i}" for i in range(6)), "at most 5 lookups"),
    ],
)
async def test_queries_over_the_limits_are_400(client: Client, query: str, needle: str) -> None:
    response = await client.request("GET", "/api/items", query=query)
    assert response.status == 400
    assert needle in response.body.decode()


async def test_queries_within_the_limits_work(client: Client) -> None:
    await client.json("POST", "/api/items", {"name": "7"}, status=201)
    query = "name__in=" + ",".join(map(str, range(50)))
    page = await client.json("GET", "/api/items", query=query, status=200)
    assert [o["name"] for o in page["objects"]] == ["7"]


# -- 8. strict parameters ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["\uff11", "\u0661", "+1", " 1", "1_0", "1.0", "0x1", ""])
async def test_integers_in_paths_and_queries_are_ascii_digits(client: Client, text: str) -> None:
    await client.json("POST", "/api/numbered", {"number": 1, "title": "one"}, status=201)
    await client.json("POST", "/api/numbered", {"number": 10, "title": "ten"}, status=201)
    from urllib.parse import quote

    if text:
        assert (await client.request("GET", f"/api/numbered/{quote(text)}")).status == 404
    for name in ("limit", "offset"):
        response = await client.request("GET", "/api/numbered", query=f"{name}={quote(text)}")
        assert response.status == 400, (name, text)
    response = await client.request("GET", "/api/items", query=f"year={quote(text)}")
    assert response.status == 400


async def test_detail_refuses_unknown_and_bad_query_parameters(client: Client) -> None:
    created = await client.json("POST", "/api/items", {"name": "n"}, status=201)
    url = f"/api/items/{created['id']}"
    assert (await client.request("GET", url, query="fields=name")).status == 200
    for query in ("colour=red", "fields=secret", "fields=nope", "limit=5"):
        response = await client.request("GET", url, query=query)
        assert response.status == 400, query
    assert (await client.request("PATCH", url, {"name": "m"}, query="x=1")).status == 400


async def test_a_put_naming_another_primary_key_is_422(api: API, client: Client) -> None:
    created = await client.json("POST", "/api/items", {"name": "n"}, status=201)
    url = f"/api/items/{created['id']}"
    for method in ("PUT", "PATCH"):
        response = await client.request(method, url, {"id": "another", "name": "m"})
        assert response.status == 422, method
        assert json.loads(response.body)["errors"][0]["loc"] == ["id"]
    same = await client.request("PUT", url, {"id": created["id"], "name": "m"})
    assert same.status == 200
    numbered = await client.json("POST", "/api/numbered", {"number": 1, "title": "x"}, status=201)
    moved = await client.request("PUT", "/api/numbered/1", {**numbered, "number": 2})
    assert moved.status == 422
    assert [i.number for i in await api.resource("numbered").collection.find()] == [1]


# -- 9. existence oracles: uniqueness within a scope ------------------------------------------


class Ticket(Model):
    code: str = field(unique_with=["owner"])
    owner: str = field(default="", read_only=True)


class TicketResource(Resource[Ticket]):
    model = Ticket
    name = "tickets"
    authenticator = BearerToken({"a": "alice", "b": "bob"})

    def scope(self, ctx: Context) -> Q | None:
        return None if ctx.trusted else Q(owner=ctx.user)

    async def before_create(self, ctx: Context, data: dict[str, Any]) -> None:
        data["owner"] = ctx.user


async def test_unique_with_keeps_other_owners_values_secret() -> None:
    api = API()
    api.register(TicketResource)
    client = Client(api)
    async with api:
        alice, bob = {"Authorization": "Bearer a"}, {"Authorization": "Bearer b"}
        await client.json("POST", "/api/tickets", {"code": "X1"}, status=201, headers=alice)
        # bob cannot learn that alice holds X1: his own X1 is fine
        await client.json("POST", "/api/tickets", {"code": "X1"}, status=201, headers=bob)
        again = await client.request("POST", "/api/tickets", {"code": "X1"}, headers=alice)
        assert again.status == 409
        assert json.loads(again.body)["detail"].endswith("(among objects with the same owner)")
        assert await api.resource("tickets").collection.count() == 2
