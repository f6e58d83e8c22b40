"""What a fallback behaviour gets: real ``httpx`` streaming clients of ``{prefix}/_stream``.

A :class:`StreamClient` holds one open Server-Sent Events response and posts frames to its
session, the way tbone.js does where WebSockets are blocked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import attrs
import httpx

from tbone.realtime import StreamLimits

from ..suites import registrar
from .app import build_realtime_api
from .harness import Harness

__all__ = [
    "FALLBACK_BEHAVIOURS",
    "FALLBACK_LIMITS",
    "FallbackBehaviour",
    "FallbackHarness",
    "StreamClient",
    "build_fallback_api",
    "fallback_behaviour",
]

Frame = dict[str, Any]
#: short timers, so that drops, expiry and keep-alives show within a test
FALLBACK_LIMITS = StreamLimits(
    max_sessions=12, resume_grace=1.0, keepalive=0.3, write_timeout=1.5, post_timeout=3.0
)


def build_fallback_api(store: Any = "memory://") -> Any:
    """The realtime API of the kit with :data:`FALLBACK_LIMITS`."""
    api = build_realtime_api(store)
    api.streams.options = FALLBACK_LIMITS
    return api


_END = (None, {"type": "(end of stream)"})


@attrs.define
class StreamClient:
    """One open event stream: its events (``id`` and frame) and its session's POST.

    A task reads the stream into a queue (cancelling a read of an ``httpx`` stream would
    close it), so that waiting for an event can time out safely.
    """

    http: httpx.AsyncClient
    response: httpx.Response
    session: str = ""
    token: str = ""
    path: str = ""
    last_id: str | None = None
    _events: asyncio.Queue[tuple[str | None, Frame]] = attrs.field(factory=asyncio.Queue)
    _reader: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._reader = asyncio.ensure_future(self._read())

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with suppress(asyncio.CancelledError):
                await self._reader

    async def event(self, wait: float = 10.0) -> tuple[str | None, Frame]:
        """The next event's ``id`` (None if it has none) and frame."""
        try:
            item = await asyncio.wait_for(self._events.get(), wait)
        except TimeoutError:
            raise AssertionError(f"no event on the stream within {wait}s") from None
        if item is _END:
            self._events.put_nowait(_END)
            raise AssertionError("the server ended the stream")
        if item[0] is not None:
            self.last_id = item[0]
        return item

    async def next(self, wait: float = 10.0) -> Frame:
        return (await self.event(wait))[1]

    async def nothing(self, within: float = 0.4) -> None:
        try:
            item = await asyncio.wait_for(self._events.get(), within)
        except TimeoutError:
            return
        raise AssertionError(f"expected no event, got {item!r}")

    async def post(self, frames: Any, **kwargs: Any) -> httpx.Response:
        headers = {"TBone-Stream-Token": self.token, **kwargs.pop("headers", {})}
        if "content" in kwargs:
            return await self.http.post(self.path, headers=headers, **kwargs)
        return await self.http.post(self.path, json=frames, headers=headers, **kwargs)

    async def call(self, frame: Frame) -> Frame:
        answer = await self.post(frame)
        assert answer.status_code == 202, answer.text
        return await self.next()

    async def subscribe(self, resource: str, frame_id: int = 1, **options: Any) -> str:
        frame = {"type": "subscribe", "id": frame_id, "resource": resource, **options}
        answer = await self.call(frame)
        assert answer["type"] == "subscribed", answer
        subscription: str = answer["subscription"]
        return subscription

    async def closed(self, wait: float = 10.0) -> list[Frame]:
        """Read until the server ends the stream; every frame read on the way."""
        frames: list[Frame] = []
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            left = deadline - asyncio.get_running_loop().time()
            try:
                item = await asyncio.wait_for(self._events.get(), max(left, 0.01))
            except TimeoutError:
                raise AssertionError(f"the stream was not ended within {wait}s") from None
            if item is _END:
                return frames
            frames.append(item[1])

    async def _read(self) -> None:
        event_id: str | None = None
        data: list[str] = []
        try:
            async for line in self.response.aiter_lines():
                if line == "":
                    if data:
                        self._events.put_nowait((event_id, json.loads("\n".join(data))))
                    event_id, data = None, []
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "id":
                    event_id = value
                elif name == "data":
                    data.append(value)
        except httpx.HTTPError:
            pass
        finally:
            self._events.put_nowait(_END)


@attrs.define
class FallbackHarness(Harness):
    """One live server, an ``httpx.AsyncClient`` for it, and event streams on demand."""

    @asynccontextmanager
    async def open(
        self, url: str = "/api/_stream", *, headers: dict[str, str] | None = None
    ) -> AsyncIterator[StreamClient]:
        """An open stream; for a new session, its first (session) frame already read."""
        async with self.http.stream("GET", url, headers=headers or {}) as response:
            assert response.status_code == 200, (response.status_code, await response.aread())
            assert response.headers["content-type"].startswith("text/event-stream")
            client = StreamClient(self.http, response)
            client.start()
            try:
                first = await client.next()
                assert first["type"] == "session", first
                client.session = first["session"]
                client.token = first.get("token", "")
                client.path = f"/api/_stream/{client.session}"
                yield client
            finally:
                await client.stop()

    @asynccontextmanager
    async def resume(
        self, old: StreamClient, last_id: str | None = None, **headers: str
    ) -> AsyncIterator[StreamClient]:
        """The session of ``old`` streamed again (with ``Last-Event-ID`` if given)."""
        sent = {"TBone-Stream-Token": old.token, **headers}
        if last_id is not None:
            sent["Last-Event-ID"] = last_id
        async with self.open(old.path, headers=sent) as client:
            client.token, client.path = old.token, old.path
            yield client

    async def in_server(self, fn: Callable[[], Awaitable[Any]]) -> Any:
        return await self.server.call(fn)

    async def counts(self) -> tuple[int, int, int]:
        """Stream sessions, hub sessions and live subscriptions on the server now."""

        async def count() -> tuple[int, int, int]:
            api = self.api
            return len(api.streams), len(api.hub.sessions), api.hub.subscription_count()

        result: tuple[int, int, int] = await self.server.call(count)
        return result

    async def wait_counts(self, expected: tuple[int, int, int], wait: float = 10.0) -> None:
        """:meth:`counts` reaches ``expected`` within ``wait`` seconds."""
        deadline = asyncio.get_running_loop().time() + wait
        while (found := await self.counts()) != expected:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"(streams, sessions, subscriptions) = {found}, not {expected}"
                )
            await asyncio.sleep(0.05)

    async def create(self, resource: str, data: Frame) -> Frame:
        response = await self.http.post(f"/api/{resource}", json=data)
        assert response.status_code == 201, response.text
        body: Frame = response.json()
        return body


FallbackBehaviour = Callable[[FallbackHarness], Awaitable[None]]
FALLBACK_BEHAVIOURS: dict[str, FallbackBehaviour] = {}


#: register a fallback behaviour of the kit under a name (unique): ``@fallback_behaviour("name")``
fallback_behaviour = registrar(FALLBACK_BEHAVIOURS, "fallback")
