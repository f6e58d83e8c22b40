"""The realtime-semantics kit on a MongoDB store, whose change stream makes the events (every
write, TBone's or another program's): positions are the process's own, so every resume is
answered resync, honestly."""

from __future__ import annotations

import pytest

from tbone.testing import LiveConformance


class TestMongoChangeStream(LiveConformance):
    url: str

    @pytest.fixture(autouse=True)
    def _use_database(self, mongo_url: str) -> None:
        self.url = mongo_url

    async def make_channel(self, name: str) -> str:
        return "memory://"

    def make_store(self) -> str:
        return self.url
