"""The SQLite channel runs the whole channel conformance kit on a real file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tbone.channel import Channel, connect_channel
from tbone.testing import ChannelConformance
from tbone_sqlite import SQLiteChannel


class TestSQLiteChannel(ChannelConformance):
    path: Path

    @pytest.fixture(autouse=True)
    def _use_file(self, tmp_path: Path) -> None:
        self.path = tmp_path / "events.db"

    async def make_channel(self) -> Channel:
        channel = connect_channel(f"sqlite:///{self.path}")
        assert isinstance(channel, SQLiteChannel)
        return channel
