"""WebSocket findings of issue 8: every frame is answered, identities are the resource's own,
and one client's queue is bounded in bytes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tbone import API, BearerToken, Context, Model, Q, Resource, field
from tbone.realtime import CloseCode, Limits

from .conftest import connect


class Diary(Model):
    text: str
    owner: str = field(default="", read_only=True)


class DiaryResource(Resource[Diary]):
    """A resource with its own authenticator: tokens the API's does not know."""

    model = Diary
    name = "diaries"
    authenticator = BearerToken({"diary-carol": "carol", "diary-dave": "dave"})

    def scope(self, ctx: Context) -> Q | None:
        return None if ctx.trusted else Q(owner=ctx.user)

    async def before_create(self, ctx: Context, data: dict[str, Any]) -> None:
        data["owner"] = ctx.user


class Page(Model):
    text: str


class PageResource(Resource[Page]):
    model = Page
    name = "pages"
    filter_fields = {"text": ["exact", "in"]}


@pytest.fixture
async def api() -> AsyncIterator[API]:
    api = API(realtime=Limits(send_queue_bytes=64 * 1024, max_subscriptions=5))
    api.register(DiaryResource)
    api.register(PageResource)
    async with api:
        yield api


@pytest.mark.parametrize(
    ("frame", "frame_id"),
    [
        ('{"type": "subscribe", "id": 1, "resource": "pages", "events": [[]]}', 1),
        ('{"type": "subscribe", "id": 1, "resource": "pages", "events": [{}]}', 1),
        ('{"type": "ping", "id": "\\ud800"}', "\ud800"),
        ('{"type": "request", "id": "\\udfff", "method": "GET", "path": "/api/pages"}', "\udfff"),
        ('{"type": "request", "id": 2, "method": "GET", "path": "/api/pages/\\ud800"}', 2),
        (
            '{"type": "request", "id": 3, "method": "POST", "path": "/api/pages", "body": '
            '{"text": "\\ud800"}}',
            3,
        ),
        ('{"type": "subscribe", "id": 4, "resource": "pages", "filter": {"text": "\\udc00"}}', 4),
        ('{"type": "ping", "x": 1e400}', None),
        ('{"type": "ping", "id": 5, "x": ' + "[" * 500 + "]" * 500 + "}", 5),
    ],
)
async def test_every_bad_frame_is_answered_with_its_id(
    api: API, frame: str, frame_id: object
) -> None:
    peer = await connect(api)
    error = await peer.call(frame)  # type: ignore[arg-type]  # raw frames on purpose
    assert error["type"] == "error"
    assert error["id"] == frame_id
    assert error["status"] == 400
    assert peer.closed is None
    assert await peer.call({"type": "ping"}) == {"type": "pong"}
    assert await api.resource("pages").collection.count() == 0


async def test_a_subscription_over_the_query_limits_is_400(api: API) -> None:
    peer = await connect(api)
    values = [str(i) for i in range(100_000)]
    frame = {"type": "subscribe", "id": 1, "resource": "pages", "filter": {"text__in": values}}
    error = await peer.call(frame)
    assert (error["type"], error["status"]) == ("error", 400)
    assert "at most 1000 values" in json.dumps(error)


async def test_subscriptions_authenticate_with_the_resources_own_authenticator(
    api: API,
) -> None:
    carol = await connect(api, query="token=diary-carol")
    sub = await carol.call({"type": "subscribe", "id": 1, "resource": "diaries"})
    assert sub["type"] == "subscribed", sub
    diaries = api.resource("diaries")
    dave_ctx = await diaries.context(_bearer("diary-dave"), "http")
    carol_ctx = await diaries.context(_bearer("diary-carol"), "http")
    await diaries.create({"text": "dave's"}, dave_ctx)
    await carol.nothing()  # re-checked as carol, the scope hides dave's diary
    await diaries.create({"text": "carol's"}, carol_ctx)
    event = await carol.next()
    assert (event["event"], event["data"]["text"]) == ("created", "carol's")
    stranger = await connect(api, query="token=nobody")
    refused = await stranger.call({"type": "subscribe", "id": 1, "resource": "diaries"})
    assert (refused["type"], refused["status"]) == ("error", 401)


async def test_an_auth_frame_changes_who_events_are_checked_as(api: API) -> None:
    peer = await connect(api, query="token=diary-carol")
    await peer.call({"type": "subscribe", "id": 1, "resource": "diaries"})
    assert (await peer.call({"type": "auth", "id": 2, "token": "diary-dave"}))["type"] == (
        "authenticated"
    )
    diaries = api.resource("diaries")
    await diaries.create({"text": "carol's"}, await diaries.context(_bearer("diary-carol"), "http"))
    await peer.nothing()
    await diaries.create({"text": "dave's"}, await diaries.context(_bearer("diary-dave"), "http"))
    assert (await peer.next())["data"]["text"] == "dave's"


async def test_the_send_queue_is_bounded_in_bytes(api: API) -> None:
    hostile = await connect(api)
    hostile.reading = False
    await hostile.send({"type": "subscribe", "id": 1, "resource": "pages"})
    pages = api.resource("pages")
    big = "x" * 8 * 1024
    for _ in range(12):  # 96 KB of events, 12 frames: far under the frame bound, over 64 KB
        await pages.create({"text": big})
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)
    assert hostile.closed is not None
    assert hostile.closed[0] == CloseCode.POLICY
    assert hostile.session._outbox_bytes == 0  # what was queued is let go


async def test_one_frame_larger_than_the_byte_bound_still_goes_out(api: API) -> None:
    peer = await connect(api)
    await peer.call({"type": "subscribe", "id": 1, "resource": "pages"})
    await api.resource("pages").create({"text": "y" * 100 * 1024})
    assert len((await peer.next())["data"]["text"]) == 100 * 1024
    assert peer.closed is None


def _bearer(token: str) -> Any:
    from tbone.http import Request

    return Request("GET", "/", "", {"authorization": f"Bearer {token}"})
