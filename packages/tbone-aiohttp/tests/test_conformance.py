"""The transport conformance kit, run against a real aiohttp server."""

from tbone.testing.transport import TransportConformance


class TestAiohttpConformance(TransportConformance):
    transport = "aiohttp"
