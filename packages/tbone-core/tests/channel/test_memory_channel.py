"""The memory channel runs the channel conformance kit (it has no broker to restart)."""

from __future__ import annotations

from tbone.channel import Channel, MemoryChannel, connect_channel
from tbone.testing import ChannelConformance


class TestMemoryChannel(ChannelConformance):
    async def make_channel(self) -> Channel:
        return connect_channel("memory://")


def test_connect_channel_finds_the_builtin() -> None:
    assert isinstance(connect_channel("memory://"), MemoryChannel)
    channel = MemoryChannel()
    assert connect_channel(channel) is channel
