"""What a WebSocket behaviour gets: real ``websockets`` clients on a live server, plus checks.

Every behaviour talks to ``{prefix}/ws`` over real sockets; what it does "from Python" runs on
the server's loop through :meth:`LiveServer.call`.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

import attrs
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from ..suites import registrar
from .app import SEED_BOOKS
from .harness import Harness

__all__ = ["WS_BEHAVIOURS", "Peer", "WsBehaviour", "WsHarness", "ws_behaviour"]

Frame = dict[str, Any]


@attrs.define
class Peer:
    """One client socket: send frames, read them as dicts, see how the server closed it."""

    ws: ClientConnection

    @property
    def subprotocol(self) -> str | None:
        return self.ws.subprotocol

    async def send(self, frame: Frame | str | bytes) -> None:
        await self.ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    async def next(self, wait: float = 10.0) -> Frame:
        """The next frame; fails if none comes within ``wait`` seconds."""
        try:
            text = await asyncio.wait_for(self.ws.recv(), wait)
        except TimeoutError:
            raise AssertionError(f"no frame from the server within {wait}s") from None
        frame: Frame = json.loads(text)
        return frame

    async def call(self, frame: Frame | str | bytes) -> Frame:
        await self.send(frame)
        return await self.next()

    async def nothing(self, within: float = 0.3) -> None:
        """No frame arrives within ``within`` seconds (recv is safe to cancel)."""
        try:
            text = await asyncio.wait_for(self.ws.recv(), within)
        except TimeoutError:
            return
        raise AssertionError(f"expected no frame, got {text!r}")

    async def closed(self, wait: float = 10.0) -> tuple[int | None, list[Frame]]:
        """Read until the server closes; the close code and every frame read on the way."""
        frames: list[Frame] = []

        async def drain() -> None:
            with suppress(ConnectionClosed):
                async for text in self.ws:
                    frames.append(json.loads(text))  # noqa: PERF401 - keep those read before a close

        await asyncio.wait_for(drain(), wait)
        return self.ws.close_code, frames

    async def ping(self) -> None:
        """The connection still answers."""
        assert await self.call({"type": "ping"}) == {"type": "pong"}

    async def subscribe(self, resource: str, frame_id: int = 1, **options: Any) -> str:
        """Subscribe; the subscription id."""
        answer = await self.call(
            {"type": "subscribe", "id": frame_id, "resource": resource, **options}
        )
        assert answer["type"] == "subscribed", answer
        assert answer["id"] == frame_id
        subscription: str = answer["subscription"]
        return subscription

    async def request(self, frame_id: int | str, method: str, path: str, **extra: Any) -> Frame:
        """A request frame and its answer (a response frame, or an error frame)."""
        answer = await self.call(
            {"type": "request", "id": frame_id, "method": method, "path": path, **extra}
        )
        assert answer["id"] == frame_id, answer
        return answer


@attrs.define
class WsHarness(Harness):
    """One live server, an ``httpx.AsyncClient`` for it, and WebSocket clients on demand."""

    @asynccontextmanager
    async def connect(
        self,
        query: str = "",
        *,
        headers: dict[str, str] | None = None,
        subprotocols: Sequence[str] | None = ("tbone.v1",),
        receive_buffer: int | None = None,
    ) -> AsyncIterator[Peer]:
        """A connected client; ``receive_buffer`` shrinks its socket's receive buffer (bytes),
        for clients that stop reading and must back up quickly."""
        url = self.server.ws_url + (f"?{query}" if query else "")
        sock = None
        if receive_buffer is not None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(
                sock, (self.server.host, self.server.port)
            )
        protocols: Any = list(subprotocols) if subprotocols else None
        async with connect(
            url,
            additional_headers=headers,
            subprotocols=protocols,
            sock=sock,
            max_size=None,
            max_queue=4 if receive_buffer is not None else 16,
            ping_interval=None,  # the tests decide when frames flow
            compression=None,
            open_timeout=10,
            close_timeout=5,
        ) as ws:
            yield Peer(ws)

    async def in_server(self, fn: Callable[[], Awaitable[Any]]) -> Any:
        """Await ``fn()`` on the server's loop: writes "from Python", reading the hub."""
        return await self.server.call(fn)

    async def subscription_count(self) -> int:
        async def count() -> int:
            value: int = self.api.hub.subscription_count()
            return value

        return await self.server.call(count)

    async def wait_subscriptions(self, expected: int, wait: float = 10.0) -> None:
        """The hub's subscription count reaches ``expected`` within ``wait`` seconds."""
        deadline = asyncio.get_running_loop().time() + wait
        while (count := await self.subscription_count()) != expected:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{count} live subscriptions, expected {expected}")
            await asyncio.sleep(0.02)

    async def seed(self) -> list[dict[str, Any]]:
        """Create the seed books; on a store that reports its own changes (``watch``), also
        wait until the hub has had them, so that a subscription made next hears only news."""
        dispatched = self._dispatched()
        response = await self.http.post("/api/books", json=SEED_BOOKS)
        assert response.status_code == 201, response.text
        objects: list[dict[str, Any]] = response.json()["objects"]
        if self.api.resource("books").store.supports("watch"):
            deadline = asyncio.get_running_loop().time() + 10
            while self._dispatched() < dispatched + len(objects):
                assert asyncio.get_running_loop().time() < deadline, "the changes never came"
                await asyncio.sleep(0.02)
        return objects

    def _dispatched(self) -> int:
        """How many events the server's hub has positioned (its local count)."""
        seq: str | None = self.api.hub.last_seq
        return int(seq.rsplit(".", 1)[1]) if seq and "." in seq else 0

    async def still_serving(self) -> None:
        """A new socket answers, HTTP answers, and no subscription is left behind."""
        async with self.connect() as peer:
            await peer.ping()
        assert (await self.http.get("/api/books")).status_code == 200
        await self.wait_subscriptions(0)


WsBehaviour = Callable[[WsHarness], Awaitable[None]]
WS_BEHAVIOURS: dict[str, WsBehaviour] = {}


#: register a WebSocket behaviour of the kit under a name (unique): ``@ws_behaviour("name")``
ws_behaviour = registrar(WS_BEHAVIOURS, "WebSocket")
