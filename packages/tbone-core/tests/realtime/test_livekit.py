"""The realtime-semantics kit on the memory channel: with history, and without (every resume
answers resync, as on Redis pub/sub)."""

from __future__ import annotations

from tbone.testing import LiveConformance


class TestMemoryChannel(LiveConformance):
    async def make_channel(self, name: str) -> str:
        return "memory://"


class TestMemoryChannelWithoutHistory(LiveConformance):
    async def make_channel(self, name: str) -> str:
        return "memory://?history=0"
