"""The transport conformance kit on the sqlite store, through both adapters."""

from __future__ import annotations

from pathlib import Path

import pytest

from tbone import plugins
from tbone.testing.transport import TransportConformance

pytestmark = pytest.mark.skipif(
    "sqlite" not in {info.name for info in plugins.available("backend")},
    reason="tbone-sqlite is not installed",
)


class OnSqlite(TransportConformance):
    def store(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'kit.db'}"


class TestAiohttpOnSqlite(OnSqlite):
    transport = "aiohttp"


class TestSanicOnSqlite(OnSqlite):
    transport = "sanic"
