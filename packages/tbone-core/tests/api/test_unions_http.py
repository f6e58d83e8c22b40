"""Tagged-union fields over real servers (aiohttp and Sanic) on every store: create, read,
filter on the tag and on members' fields, field rules inside members, bad input as 422 / 400
problem documents, the OpenAPI document, and live events filtered on the tag."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from openapi_spec_validator import validate as validate_spec

from tbone import API, Model, Resource, field
from tbone.testing.transport import LiveServer

websockets = pytest.importorskip("websockets.asyncio.client")


class Cat(Model, embedded=True):
    kind: Literal["cat"] = "cat"
    name: str = field(min_length=1)
    lives: int = field(default=9, ge=0, le=9)
    chip: str = field(default="", private=True)
    seen: str = field(default="", read_only=True)


class Dog(Model, embedded=True):
    kind: Literal["dog"] = "dog"
    name: str = field(min_length=1)
    good: bool = True


class Home(Model):
    street: str
    pet: Cat | Dog
    spare: Cat | Dog | None = None
    pets: list[Cat | Dog] = field(factory=list)


class HomeResource(Resource[Home]):
    model = Home
    name = "homes_union"
    filter_fields = {
        "pet.kind": ["exact", "in", "ne"],
        "pet.name": ["exact", "startswith"],
        "pet.lives": ["gte", "lt", "exists"],
        "pet.good": ["exact"],
        "spare.kind": ["exact"],
    }
    order_fields = ("pet.name", "street")
    default_order = ("street",)


TRANSPORTS = ["aiohttp", "sanic"]
STORES = ["memory", "sqlite", "mongo", "redis"]


def _store_url(store: str, request: pytest.FixtureRequest, tmp: Path) -> str:
    if store == "sqlite":
        return f"sqlite:///{tmp / 'homes.db'}"
    if store == "mongo":
        pytest.importorskip("tbone_mongo")
        return str(request.getfixturevalue("mongo_server").database_url())
    if store == "redis":
        pytest.importorskip("tbone_redis")
        return str(request.getfixturevalue("redis_server").url)
    return "memory://"


@pytest.fixture(
    scope="module",
    params=[(t, s) for t in TRANSPORTS for s in STORES],
    ids=lambda p: "-".join(p),
)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    transport, store = request.param
    pytest.importorskip(f"tbone_{transport}")
    api = API(stores={"default": _store_url(store, request, tmp_path_factory.mktemp(store))})
    api.register(HomeResource)
    with LiveServer(transport, api) as server:
        yield server


@pytest.fixture
async def client(live: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    resource: Any = live.api.resource("homes_union")
    await live.call(lambda: resource.collection.delete_many())
    async with httpx.AsyncClient(base_url=live.url + "/api/homes_union", timeout=30) as c:
        yield c


async def _post(client: httpx.AsyncClient, body: Any, status: int = 201) -> Any:
    response = await client.post("", json=body)
    assert response.status_code == status, response.text
    return response.json()


async def _stock(client: httpx.AsyncClient) -> dict[str, str]:
    homes = [
        {"street": "a", "pet": {"kind": "cat", "name": "Tom", "lives": 3}},
        {
            "street": "b",
            "pet": {"kind": "dog", "name": "Rex"},
            "spare": {"kind": "cat", "name": "K"},
        },
        {"street": "c", "pet": {"kind": "dog", "name": "Bo", "good": False}},
        {
            "street": "d",
            "pet": {"kind": "cat", "name": "Ada"},
            "pets": [{"kind": "dog", "name": "x"}],
        },
    ]
    created = await _post(client, homes)
    return {h["street"]: h["id"] for h in created["objects"]}


async def _streets(client: httpx.AsyncClient, query: str) -> list[str]:
    response = await client.get("?" + query)
    assert response.status_code == 200, response.text
    return [h["street"] for h in response.json()["objects"]]


# -- create and read ------------------------------------------------------------------------


async def test_members_round_trip(client: httpx.AsyncClient) -> None:
    ids = await _stock(client)
    detail = (await client.get(f"/{ids['d']}")).json()
    assert detail["pet"] == {"kind": "cat", "name": "Ada", "lives": 9, "seen": ""}
    assert detail["pets"] == [{"kind": "dog", "name": "x", "good": True}]
    assert detail["spare"] is None
    listed = (await client.get("")).json()["objects"]
    assert [h["pet"]["kind"] for h in listed] == ["cat", "dog", "dog", "cat"]
    assert listed[1]["spare"] == {"kind": "cat", "name": "K", "lives": 9, "seen": ""}


# -- filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("pet.kind=cat", ["a", "d"]),
        ("pet__kind=dog", ["b", "c"]),
        ("pet.kind__in=cat,dog", ["a", "b", "c", "d"]),
        ("pet.kind__ne=cat", ["b", "c"]),
        ("pet.name=Rex", ["b"]),
        ("pet.name__startswith=A", ["d"]),
        ("pet.lives__lt=5", ["a"]),  # typed as an int from the query string; dogs never match
        ("pet.lives__exists=false", ["b", "c"]),
        ("pet.good=false", ["c"]),
        ("spare.kind=cat", ["b"]),
        ("pet.kind=cat&pet.lives__gte=9", ["d"]),
        ("order_by=pet.name", ["d", "c", "b", "a"]),
    ],
)
async def test_filters(client: httpx.AsyncClient, query: str, expected: list[str]) -> None:
    await _stock(client)
    assert await _streets(client, query) == expected


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("pet.kind=cow", "pet.kind"),
        ("pet.kind__in=cat,cow", "pet.kind__in"),
        ("pet.lives__gte=many", "pet.lives__gte"),
        ("pet.lives__gte=1e999", "pet.lives__gte"),
        ("pet.bark=1", "pet.bark"),
        ("pet.chip=1", "pet.chip"),
        ("pet.good=maybe", "pet.good"),
    ],
)
async def test_bad_filters_are_400(client: httpx.AsyncClient, query: str, loc: str) -> None:
    response = await client.get("?" + query)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert loc in response.json()["errors"][0]["loc"]


# -- field rules inside members -----------------------------------------------------------------


async def test_private_and_read_only_fields_inside_members(
    client: httpx.AsyncClient, live: LiveServer
) -> None:
    created = await _post(client, {"street": "a", "pet": {"kind": "cat", "name": "T", "seen": "x"}})
    assert created["pet"]["seen"] == ""  # read-only: the client's value is dropped
    assert "chip" not in created["pet"]
    refused = await _post(
        client, {"street": "a", "pet": {"kind": "cat", "name": "T", "chip": "1"}}, 422
    )
    assert refused["errors"][0]["loc"] == ["pet", "chip"]
    resource: Any = live.api.resource("homes_union")
    stored = await live.call(lambda: resource.collection.get(created["id"]))
    chipped = Home(id=stored.id, street="a", pet=Cat(name="T", chip="c1", seen="vet"))
    await live.call(lambda: resource.collection.replace(chipped))
    patched = await client.patch(f"/{created['id']}", json={"pet": {"kind": "cat", "name": "U"}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["pet"] == {"kind": "cat", "name": "U", "lives": 9, "seen": "vet"}
    kept = await live.call(lambda: resource.collection.get(created["id"]))
    assert kept.pet == Cat(name="U", chip="c1", seen="vet")
    turned = await client.patch(f"/{created['id']}", json={"pet": {"kind": "dog", "name": "U"}})
    assert turned.status_code == 200, turned.text
    assert turned.json()["pet"] == {"kind": "dog", "name": "U", "good": True}
    assert await _streets(client, "pet.kind=dog") == ["a"]


# -- bad input --------------------------------------------------------------------------------

_BAD_PETS: list[tuple[Any, list[Any], str]] = [
    ({"kind": "cow", "name": "x"}, ["pet", "kind"], "union_tag"),
    ({"kind": 3, "name": "x"}, ["pet", "kind"], "union_tag"),
    ({"kind": None, "name": "x"}, ["pet", "kind"], "union_tag"),
    ({"kind": ["cat"], "name": "x"}, ["pet", "kind"], "union_tag"),
    ({"kind": {"$ne": "cat"}, "name": "x"}, ["pet", "kind"], "union_tag"),
    ({"name": "x"}, ["pet", "kind"], "missing"),
    ([{"kind": "cat", "name": "x"}], ["pet"], "model_type"),
    ("cat", ["pet"], "model_type"),
    (None, ["pet"], "model_type"),
    ({"kind": "cat", "name": "x", "lives": 10}, ["pet", "lives"], "le"),
    ({"kind": "dog", "name": "x", "lives": 1}, ["pet", "lives"], "extra_forbidden"),
]


@pytest.mark.parametrize(("pet", "loc", "kind"), _BAD_PETS)
async def test_bad_members_are_422_with_the_path(
    client: httpx.AsyncClient, pet: Any, loc: list[Any], kind: str
) -> None:
    created = await _post(client, {"street": "a", "pet": {"kind": "cat", "name": "T"}})
    attempts = [
        client.post("", json={"street": "b", "pet": pet}),
        client.put(f"/{created['id']}", json={"street": "b", "pet": pet}),
        client.patch(f"/{created['id']}", json={"pet": pet}),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        errors = response.json()["errors"]
        assert [e["loc"] for e in errors] == [loc], errors
        assert errors[0]["type"] == kind
    in_list = await client.patch(
        f"/{created['id']}", json={"pets": [{"kind": "dog", "name": "x"}, pet]}
    )
    assert in_list.status_code == 422, in_list.text
    assert in_list.json()["errors"][0]["loc"][:2] == ["pets", 1]
    assert (await client.get(f"/{created['id']}")).json()["pet"]["name"] == "T"  # nothing written


async def test_the_tag_message_lists_the_members(client: httpx.AsyncClient) -> None:
    body = await _post(client, {"street": "a", "pet": {"kind": "cow"}}, 422)
    assert body["errors"][0]["msg"] == "must be one of: 'cat', 'dog'"


# -- OpenAPI ----------------------------------------------------------------------------------


async def test_openapi_has_a_discriminator_and_validates(live: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as c:
        doc = (await c.get("/api/openapi.json")).json()
    validate_spec(doc)
    schemas = doc["components"]["schemas"]
    assert schemas["Home"]["properties"]["pet"] == {
        "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
        "discriminator": {
            "propertyName": "kind",
            "mapping": {"cat": "#/components/schemas/Cat", "dog": "#/components/schemas/Dog"},
        },
        "required": ["kind"],
    }
    assert "chip" not in schemas["Cat"]["properties"]
    params = {p["name"]: p for p in doc["paths"]["/api/homes_union"]["get"]["parameters"]}
    assert params["pet.kind"]["schema"] == {"enum": ["cat", "dog"]}
    assert params["pet.lives__gte"]["schema"]["type"] == "integer"


# -- live events --------------------------------------------------------------------------------


async def test_subscriptions_filter_on_the_tag(live: LiveServer, client: httpx.AsyncClient) -> None:
    async with websockets.connect(live.ws_url, subprotocols=["tbone.v1"]) as ws:
        frame = {
            "type": "subscribe",
            "id": 1,
            "resource": "homes_union",
            "filter": {"pet.kind": "cat"},
        }
        await ws.send(json.dumps(frame))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert answer["type"] == "subscribed", answer
        await _post(client, {"street": "dog", "pet": {"kind": "dog", "name": "Rex"}})
        await _post(client, {"street": "cat", "pet": {"kind": "cat", "name": "Tom"}})
        event = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert event["event"] == "created"
        assert event["data"]["street"] == "cat"  # the dog was never sent
        await ws.send(json.dumps({**frame, "id": 2, "filter": {"pet.kind": "cow"}}))
        refused = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert refused["type"] == "error", refused
        assert refused["status"] == 400


async def test_websocket_requests_answer_like_http(live: LiveServer) -> None:
    async with websockets.connect(live.ws_url, subprotocols=["tbone.v1"]) as ws:
        for i, (pet, status) in enumerate(
            [({"kind": "cow", "name": "x"}, 422), ({"kind": "dog", "name": "x"}, 201)], 1
        ):
            body = {"street": "ws", "pet": pet}
            frame = {"type": "request", "id": i, "method": "POST", "path": "/api/homes_union"}
            await ws.send(json.dumps({**frame, "body": body}))
            answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert answer["type"] == "response", answer
            assert answer["status"] == status, answer
            if status == 422:
                assert answer["body"]["errors"][0]["loc"] == ["pet", "kind"], answer
        assert answer["body"]["pet"] == {"kind": "dog", "name": "x", "good": True}


# -- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["pet.chip", "spare.chip"])
def test_hidden_fields_of_members_cannot_be_filtered_on(path: str) -> None:
    class Leaky(Resource[Home]):
        model = Home
        name = "leaky"
        filter_fields = {path: ["exact"]}

    with pytest.raises(TypeError, match=r"'chip' is private"):
        API().register(Leaky)


# -- an outside client ------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_schemathesis_finds_no_server_error_and_no_schema_violation() -> None:
    """schemathesis generates bodies from the oneOf + discriminator schema (and bodies that
    violate it): no 5xx, and every answer fits the document."""
    schemathesis = pytest.importorskip("schemathesis")
    # imported here: schemathesis is optional, and only this test needs it
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    checks = [not_a_server_error, response_schema_conformance]
    api = API(stores={"default": "memory://"})
    api.register(HomeResource)
    failures = []
    with LiveServer("aiohttp", api) as server:
        schema = schemathesis.openapi.from_url(f"{server.url}/api/openapi.json")
        for operation in [result.ok() for result in schema.get_all_operations()]:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @settings(
                    max_examples=25,
                    deadline=None,
                    database=None,
                    derandomize=True,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                @given(operation.as_strategy(generation_mode=mode))
                def run(case: Any) -> None:
                    case.call_and_validate(base_url=server.url, checks=checks, timeout=30)

                try:
                    run()
                except Unsatisfiable:  # nothing violates the schema of this operation
                    pass
                except Exception as exc:  # schemathesis' failure groups, with their curl
                    failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failures, "\n\n".join(failures)
