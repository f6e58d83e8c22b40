"""The transport conformance kit: real servers on loopback, real HTTP and WebSocket clients.

A transport package runs the whole HTTP suite against its adapter with one class::

    from tbone.testing.transport import TransportConformance


    class TestSanic(TransportConformance):
        transport = "sanic"

:class:`LiveServer` starts a real server of any transport (one that offers ``serving()``) in a
thread of its own, serving any API; :func:`build_api` makes the API the suite is written for.
:func:`build_realtime_api` adds what the WebSocket suite needs (private notes, bearer tokens,
small bounds). Needs ``pip install "tbone-core[testing]"`` (httpx, websockets).
"""

from __future__ import annotations

from .app import build_api, build_realtime_api
from .conformance import (
    TransportConformance,
    fallback_behaviours,
    http_behaviours,
    ws_behaviours,
)
from .server import LiveServer, ServingTransport

__all__ = [
    "LiveServer",
    "ServingTransport",
    "TransportConformance",
    "build_api",
    "build_realtime_api",
    "fallback_behaviours",
    "http_behaviours",
    "ws_behaviours",
]
