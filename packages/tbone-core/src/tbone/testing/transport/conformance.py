"""``TransportConformance``: the transport kit as a base class of pytest test classes.

Subclass it and name the transport; pytest collects one ``test_http[<behaviour>]`` per HTTP
behaviour, one ``test_ws[<behaviour>]`` per WebSocket behaviour and one
``test_fallback[<behaviour>]`` per behaviour of the SSE + POST fallback, each against a fresh API on
a fresh real server::

    class TestSanic(TransportConformance):
        transport = "sanic"

Override :meth:`store` to run the suite on another store (a temporary file is handy). Tests are
synchronous and run their own event loop, so the kit works whatever pytest-asyncio mode the
project uses; the server runs in a thread of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from tbone.storage import Store

from . import httpbad, httprest, sse, ws, wsbad
from .app import build_api, build_realtime_api
from .harness import BEHAVIOURS, Harness, HttpBehaviour
from .server import LiveServer
from .sseharness import (
    FALLBACK_BEHAVIOURS,
    FallbackBehaviour,
    FallbackHarness,
    build_fallback_api,
)
from .wsharness import WS_BEHAVIOURS, WsBehaviour, WsHarness

__all__ = [
    "TransportConformance",
    "fallback_behaviours",
    "http_behaviours",
    "ws_behaviours",
]

_ = (httpbad, httprest, sse, ws, wsbad)  # importing them registers their behaviours


def http_behaviours() -> dict[str, HttpBehaviour]:
    """Every HTTP behaviour of the kit, by name, in a stable order."""
    return dict(BEHAVIOURS)


def ws_behaviours() -> dict[str, WsBehaviour]:
    """Every WebSocket behaviour of the kit, by name, in a stable order."""
    return dict(WS_BEHAVIOURS)


def fallback_behaviours() -> dict[str, FallbackBehaviour]:
    """Every behaviour of the WebSocket-less fallback, by name, in a stable order."""
    return dict(FALLBACK_BEHAVIOURS)


class TransportConformance:
    """Base class: set ``transport`` (a name in ``tbone.transports``, a class or an instance)."""

    transport: ClassVar[Any]
    #: behaviour name -> reason, for behaviours this transport cannot pass (reported at the end)
    skip: ClassVar[dict[str, str]] = {}
    #: behaviour name -> reason, for known failures; strict, so a fix is noticed
    xfail: ClassVar[dict[str, str]] = {}

    def store(self, tmp_path: Path) -> str | Store:
        """The store the API under test uses; a fresh memory store by default."""
        return "memory://"

    @pytest.fixture
    def live_server(self, tmp_path: Path) -> Iterator[LiveServer]:
        api = build_api(self.store(tmp_path))
        with LiveServer(self.transport, api) as server:
            assert api.started, "the transport did not run api.startup() before serving"
            yield server
        assert not api.started, "the transport did not run api.shutdown() when stopping"

    @pytest.fixture
    def realtime_server(self, tmp_path: Path) -> Iterator[LiveServer]:
        api = build_realtime_api(self.store(tmp_path))
        with LiveServer(self.transport, api) as server:
            yield server
        assert not api.started, "the transport did not run api.shutdown() when stopping"
        assert not api.hub.sessions, "sockets were left open after the server stopped"

    @pytest.fixture
    def fallback_server(self, tmp_path: Path) -> Iterator[LiveServer]:
        api = build_fallback_api(self.store(tmp_path))
        with LiveServer(self.transport, api) as server:
            yield server
        assert not api.streams.sessions, "stream sessions were left after the server stopped"
        assert not api.hub.sessions, "sessions were left open after the server stopped"

    @pytest.mark.parametrize("name", list(http_behaviours()))
    def test_http(self, request: pytest.FixtureRequest, name: str) -> None:
        self._mark(request, name)
        server: LiveServer = request.getfixturevalue("live_server")
        asyncio.run(_run(http_behaviours()[name], server))

    @pytest.mark.parametrize("name", list(ws_behaviours()))
    def test_ws(self, request: pytest.FixtureRequest, name: str) -> None:
        self._mark(request, name)
        server: LiveServer = request.getfixturevalue("realtime_server")
        asyncio.run(_run_ws(ws_behaviours()[name], server))

    @pytest.mark.parametrize("name", list(fallback_behaviours()))
    def test_fallback(self, request: pytest.FixtureRequest, name: str) -> None:
        self._mark(request, name)
        server: LiveServer = request.getfixturevalue("fallback_server")
        asyncio.run(_run_fallback(fallback_behaviours()[name], server))

    def _mark(self, request: pytest.FixtureRequest, name: str) -> None:
        from tbone.testing.plugin import SKIP_PREFIX

        if name in self.skip:
            pytest.skip(f"{SKIP_PREFIX}{name}: {self.skip[name]}")
        if name in self.xfail:
            request.applymarker(pytest.mark.xfail(reason=self.xfail[name], strict=True))


async def _run(check: HttpBehaviour, server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        await check(Harness(server, client))


async def _run_ws(check: WsBehaviour, server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        await check(WsHarness(server, client))


async def _run_fallback(check: FallbackBehaviour, server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        await check(FallbackHarness(server, client))
