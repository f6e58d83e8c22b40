"""The realtime-semantics kit on the ``sqlite://`` channel: with its own SQLite store (what the
demo and ``tbone serve`` share), and on the memory store; with history and without."""

from __future__ import annotations

from pathlib import Path

import pytest

from tbone.testing import LiveConformance


class _OnFile(LiveConformance):
    folder: Path
    query = ""

    @pytest.fixture(autouse=True)
    def _use_folder(self, tmp_path: Path) -> None:
        self.folder = tmp_path

    async def make_channel(self, name: str) -> str:
        return f"sqlite:///{self.folder / name}.db{self.query}"


class TestSQLiteChannelAndStore(_OnFile):
    """Store and channel in one file, as two processes serving one API would have them."""

    def make_store(self) -> str:
        return f"sqlite:///{self.folder / 'kit.db'}"


class TestSQLiteChannel(_OnFile):
    """The channel with the memory store."""


class TestSQLiteChannelWithoutHistory(_OnFile):
    query = "?history=0"
