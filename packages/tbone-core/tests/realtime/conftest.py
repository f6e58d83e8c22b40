"""Sans-io WebSocket sessions: frames in through ``receive``, frames out through a queue."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tbone import API, BearerToken, Context, IsAuthenticated, Model, Q, Resource, field
from tbone.http import Request
from tbone.realtime import Limits, Session


class Book(Model):
    title: str = field(min_length=1)
    author: str
    year: int | None = None
    owner: str = field(default="", read_only=True)
    cost: float = field(default=0.0, private=True)


class BookResource(Resource[Book]):
    model = Book
    name = "books"
    filter_fields = {"author": ["exact", "in"], "year": ["gte", "lte"]}


class Note(Model):
    text: str
    owner: str = field(default="", read_only=True)


class NoteResource(Resource[Note]):
    model = Note
    name = "notes"
    permissions = (IsAuthenticated(),)

    def scope(self, ctx: Context) -> Q | None:
        return None if ctx.trusted else Q(owner=ctx.user)

    async def before_create(self, ctx: Context, data: dict[str, Any]) -> None:
        data["owner"] = ctx.user


class Peer:
    """The client end of a session: what it was sent and how it was closed."""

    def __init__(self, api: API, query: str = "", headers: dict[str, str] | None = None) -> None:
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.closed: tuple[int, str] | None = None
        self.reading = True
        request = Request("GET", "/api/ws", query, headers or {})
        self.session: Session = api.open_session(request, send=self._send, close=self._close)

    async def _send(self, text: str) -> None:
        if not self.reading:  # a client that never reads: the socket buffer stays full
            await asyncio.Event().wait()
        await self.frames.put(json.loads(text))

    async def _close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        data = frame if isinstance(frame, str | bytes) else json.dumps(frame)
        await self.session.receive(data)

    async def next(self, wait: float = 5.0) -> dict[str, Any]:
        return await asyncio.wait_for(self.frames.get(), wait)

    async def call(self, frame: dict[str, Any]) -> dict[str, Any]:
        await self.send(frame)
        return await self.next()

    async def nothing(self, within: float = 0.2) -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(self.frames.get(), within)


TOKENS = {"alice-token": "alice", "bob-token": "bob"}


def make_api(**kwargs: Any) -> API:
    api = API(**kwargs)
    api.register(BookResource)
    api.register(NoteResource)
    return api


@pytest.fixture
async def api() -> AsyncIterator[API]:
    api = make_api(
        authenticator=BearerToken(TOKENS), realtime=Limits(send_queue=50, max_subscriptions=5)
    )
    async with api:
        yield api


async def connect(api: API, query: str = "", headers: dict[str, str] | None = None) -> Peer:
    peer = Peer(api, query, headers)
    assert await peer.session.start()
    return peer
