"""The transport conformance kit, run against a real Sanic server."""

from tbone.testing.transport import TransportConformance


class TestSanicConformance(TransportConformance):
    transport = "sanic"
