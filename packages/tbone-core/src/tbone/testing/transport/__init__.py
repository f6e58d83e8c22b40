"""The transport conformance kit: real servers on loopback, checked with a real HTTP client.

A transport package runs the whole HTTP suite against its adapter with one class::

    from tbone.testing.transport import TransportConformance


    class TestSanic(TransportConformance):
        transport = "sanic"

:class:`LiveServer` starts a real server of any transport (one that offers ``serving()``) in a
thread of its own, serving any API.
"""

from __future__ import annotations

from .server import LiveServer, ServingTransport

__all__ = ["LiveServer", "ServingTransport"]
