"""The transport conformance kit on the MongoDB store, through both adapters."""

from __future__ import annotations

from pathlib import Path

import pytest

from tbone import plugins
from tbone.testing.transport import TransportConformance
from tbone_mongo.testing import MongoServer

_TRANSPORTS = {info.name for info in plugins.available("transport")}


class OnMongo(TransportConformance):
    @pytest.fixture(autouse=True)
    def _server(self, mongo_server: MongoServer) -> None:
        self.server = mongo_server

    def store(self, tmp_path: Path) -> str:
        return self.server.database_url()


@pytest.mark.skipif("aiohttp" not in _TRANSPORTS, reason="tbone-aiohttp is not installed")
class TestAiohttpOnMongo(OnMongo):
    transport = "aiohttp"


@pytest.mark.skipif("sanic" not in _TRANSPORTS, reason="tbone-sanic is not installed")
class TestSanicOnMongo(OnMongo):
    transport = "sanic"
