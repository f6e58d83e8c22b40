"""The transport conformance kit: real servers on loopback, checked with a real HTTP client.

A transport package runs the whole HTTP suite against its adapter with one class::

    from tbone.testing.transport import TransportConformance


    class TestSanic(TransportConformance):
        transport = "sanic"

:class:`LiveServer` starts a real server of any transport (one that offers ``serving()``) in a
thread of its own, serving any API; :func:`build_api` makes the API the suite is written for.
Needs ``pip install "tbone-core[testing]"`` (httpx).
"""

from __future__ import annotations

from .app import build_api
from .conformance import TransportConformance, http_behaviours
from .server import LiveServer, ServingTransport

__all__ = ["LiveServer", "ServingTransport", "TransportConformance", "build_api", "http_behaviours"]
