"""Re-authorization over real WebSockets: after an ``auth`` frame (or when the credentials
expire), a subscription that goes on is sent ``left`` (the key only) for every object its
client holds that the new identity may not see, and ``resync`` when it held more than the
server remembers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tbone import API, BearerToken, Context, IsAuthenticated, Model, Q, Resource
from tbone.realtime import Limits
from tbone.testing.transport import LiveServer

websockets = pytest.importorskip("websockets.asyncio.client")
pytest.importorskip("tbone_aiohttp")


class Doc(Model):
    title: str
    team: str
    secret: bool = False


#: token -> (user, teams the user is in, clearance for secret docs)
TOKENS = {
    "full": {"name": "ana", "teams": ["red", "blue"], "cleared": True},
    "red-only": {"name": "ana", "teams": ["red"], "cleared": True},
    "uncleared": {"name": "ana", "teams": ["red", "blue"], "cleared": False},
}


class Cleared:
    """Secret docs only for cleared users: a per-object permission, not a scope."""

    async def allows(self, ctx: Context, action: str, obj: Any = None) -> bool:
        return obj is None or not obj.secret or bool(ctx.user["cleared"])


class DocResource(Resource[Doc]):
    model = Doc
    name = "docs"
    filter_fields = {"team": ["exact", "in"]}
    permissions = (IsAuthenticated(), Cleared())

    def scope(self, ctx: Context) -> Q | None:
        return None if ctx.trusted else Q(team__in=ctx.user["teams"])


def _server(limits: Limits | None = None) -> LiveServer:
    api = API(authenticator=BearerToken(TOKENS), realtime=limits or Limits())
    api.register(DocResource)
    return LiveServer("aiohttp", api)


@pytest.fixture
def server() -> Iterator[LiveServer]:
    with _server() as live:
        yield live


class Client:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = 0

    async def next(self, wait: float = 5.0) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), wait))
        return frame

    async def call(self, frame: dict[str, Any]) -> dict[str, Any]:
        self.ids += 1
        await self.ws.send(json.dumps({**frame, "id": self.ids}))
        return await self.next()

    async def subscribe(self, **options: Any) -> dict[str, Any]:
        answer = await self.call({"type": "subscribe", "resource": "docs", **options})
        assert answer["type"] == "subscribed", answer
        return answer

    async def until_authenticated(self, token: str) -> list[dict[str, Any]]:
        """Send an ``auth`` frame; the frames that came before its answer."""
        self.ids += 1
        await self.ws.send(json.dumps({"type": "auth", "id": self.ids, "token": token}))
        before = []
        while (frame := await self.next())["type"] != "authenticated":
            before.append(frame)
        return before

    async def nothing(self, within: float = 0.3) -> None:
        with pytest.raises(TimeoutError):
            await self.next(wait=within)


@contextlib.asynccontextmanager
async def _client(server: LiveServer, token: str = "full") -> AsyncIterator[Client]:
    async with websockets.connect(f"{server.ws_url}?token={token}") as ws:
        yield Client(ws)


async def _create(server: LiveServer, **data: Any) -> str:
    doc = await server.call(lambda: server.api.resource("docs").create(data))
    pk: str = doc.id
    return pk


async def _update(server: LiveServer, pk: str, **data: Any) -> None:
    await server.call(lambda: server.api.resource("docs").update(pk, data))


async def test_objects_the_new_identity_may_not_see_are_sent_left(server: LiveServer) -> None:
    red = await _create(server, title="r", team="red")
    blue = [await _create(server, title=f"b{i}", team="blue") for i in range(2)]
    async with _client(server) as client:
        snap = await client.subscribe(snapshot=True)
        assert len(snap["objects"]) == 3
        plain = await client.subscribe()  # holds only what events brought it
        late = await _create(server, title="late", team="blue")
        got = [await client.next(), await client.next()]
        assert {(e["subscription"], e["event"]) for e in got} == {
            (snap["subscription"], "created"),
            (plain["subscription"], "created"),
        }
        frames = await client.until_authenticated("red-only")
        lefts = {(f["subscription"], f["pk"]) for f in frames}
        assert all(f["event"] == "left" and "data" not in f for f in frames), frames
        assert all(isinstance(f["seq"], str) for f in frames)
        assert lefts == {
            *((snap["subscription"], pk) for pk in [*blue, late]),
            (plain["subscription"], late),
        }
        await _update(server, blue[0], title="unseen")  # no longer theirs: nothing
        await client.nothing()
        await _update(server, red, title="seen")
        assert {(await client.next())["event"] for _ in range(2)} == {"updated"}
        await client.nothing()


async def test_what_the_client_no_longer_holds_is_not_sent_left(server: LiveServer) -> None:
    blue = [await _create(server, title=f"b{i}", team="blue") for i in range(3)]
    async with _client(server) as client:
        sub = (await client.subscribe(snapshot=True, filter={"team": "blue"}))["subscription"]
        await server.call(lambda: server.api.resource("docs").delete(blue[0]))
        assert (await client.next())["event"] == "deleted"
        await _update(server, blue[1], team="red")  # out of the filter: left
        assert ((await client.next())["event"]) == "left"
        frames = await client.until_authenticated("red-only")
        assert [(f["subscription"], f["event"], f["pk"]) for f in frames] == [
            (sub, "left", blue[2])
        ]


async def test_a_per_object_permission_lost_sends_left(server: LiveServer) -> None:
    secret = await _create(server, title="s", team="red", secret=True)
    await _create(server, title="open", team="red")
    async with _client(server) as client:
        sub = (await client.subscribe(snapshot=True))["subscription"]
        frames = await client.until_authenticated("uncleared")
        assert [(f["subscription"], f["event"], f["pk"]) for f in frames] == [(sub, "left", secret)]


async def test_a_refresh_to_the_same_identity_sends_nothing(server: LiveServer) -> None:
    await _create(server, title="r", team="red")
    async with _client(server) as client:
        await client.subscribe(snapshot=True)
        assert await client.until_authenticated("full") == []
        await client.nothing()


async def test_past_the_cap_a_subscription_is_told_resync() -> None:
    with _server(Limits(tracked_objects=2, tracked_objects_per_connection=3)) as server:
        for i in range(3):
            await _create(server, title=f"r{i}", team="red")
        await _create(server, title="b", team="blue")
        async with _client(server) as client:
            big = (await client.subscribe(snapshot=True, filter={"team": "red"}))["subscription"]
            small = await client.subscribe(snapshot=True, filter={"team": "blue"})
            frames = await client.until_authenticated("red-only")
            assert sorted((f["subscription"], f["event"]) for f in frames) == [
                (big, "resync"),  # three objects: more than its two
                (small["subscription"], "left"),
            ]
            resync = next(f for f in frames if f["event"] == "resync")
            assert "pk" not in resync
            assert "data" not in resync
            again = await client.until_authenticated("full")  # it stays untracked
            assert [(f["subscription"], f["event"]) for f in again] == [(big, "resync")]


async def test_the_connection_budget_is_shared_by_its_subscriptions() -> None:
    with _server(Limits(tracked_objects=10, tracked_objects_per_connection=3)) as server:
        for i in range(2):
            await _create(server, title=f"b{i}", team="blue")
        async with _client(server) as client:
            first = (await client.subscribe(snapshot=True))["subscription"]
            second = (await client.subscribe(snapshot=True))["subscription"]  # 2 + 2 > 3
            frames = await client.until_authenticated("red-only")
            assert sorted((f["subscription"], f["event"]) for f in frames) == [
                (first, "left"),
                (first, "left"),
                (second, "resync"),
            ]


class Expiring(BearerToken):
    """Tokens that say when they expire: ``expires_at(user)``, a Unix time."""

    async def authenticate(self, request: Any) -> Any:
        user = await super().authenticate(request)
        return None if user is None else {**user, "until": time.time() + 0.5}

    def expires_at(self, user: Any) -> float:
        until: float = user["until"]
        return until


class PublicDocs(DocResource):
    """Anonymous users may read, and see only the public team's docs."""

    permissions = (IsAuthenticated(read_anonymously=True), Cleared())

    def scope(self, ctx: Context) -> Q | None:
        if ctx.trusted:
            return None
        return Q(team__in=ctx.user["teams"]) if ctx.user else Q(team="public")


class Private(DocResource):
    name = "private"


async def test_when_the_token_expires_subscriptions_are_rechecked_as_anonymous() -> None:
    api = API(authenticator=Expiring(TOKENS))
    api.register(PublicDocs)
    api.register(Private)
    with LiveServer("aiohttp", api) as server:
        await _create(server, title="p", team="public")  # what anonymous users see
        red = await _create(server, title="r", team="red")
        async with _client(server) as client:
            await client.call({"type": "subscribe", "resource": "private"})
            docs = (await client.subscribe(snapshot=True))["subscription"]
            assert {o["id"] for o in (await client.subscribe(snapshot=True))["objects"]} == {red}
            frames = [await client.next(wait=5) for _ in range(4)]
            told = frames[0]
            assert (told["type"], told["id"], told["status"]) == ("error", None, 401)
            assert "expired" in told["body"]["detail"]
            ended = next(f for f in frames if f["type"] == "error" and "subscription" in f)
            assert (ended["subscription"], ended["status"]) == ("s1", 401)
            lefts = {(f["subscription"], f["pk"]) for f in frames if f.get("event") == "left"}
            assert lefts == {(docs, red), ("s3", red)}
            await client.nothing()
            await client.until_authenticated("full")  # new credentials: a new expiry
            assert (await client.next(wait=5))["status"] == 401
