"""The SQLite channel's own behaviours: several channel objects on one file (as several
processes would have), bounded history, positions of other files, and its URL options."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from tbone.channel import Subscription, connect_channel
from tbone.errors import ChannelUnavailable
from tbone_sqlite import SQLiteChannel

WAIT = 5.0


async def _receive(sub: Subscription, count: int) -> list[tuple[bytes, str | None]]:
    messages = [await asyncio.wait_for(sub.next(), WAIT) for _ in range(count)]
    return [(m.data, m.seq) for m in messages]


def _remove(folder: Path, pattern: str) -> None:
    for leftover in folder.glob(pattern):
        leftover.unlink()


async def test_two_channels_on_one_file_hear_each_other_in_order(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    async with SQLiteChannel(path) as a, SQLiteChannel(path) as b:
        on_a, on_b = await a.subscribe("t"), await b.subscribe("t")
        for i in range(50):
            await (a if i % 2 else b).publish("t", f"m{i}".encode())
        heard_a, heard_b = await _receive(on_a, 50), await _receive(on_b, 50)
        assert heard_a == heard_b  # the same messages, positions and order in both
        assert [data for data, _ in heard_a] == [f"m{i}".encode() for i in range(50)]
        assert await a.head("t") == await b.head("t") == heard_a[-1][1]
        past = await b.since("t", str(heard_a[9][1]))
        assert past is not None
        assert [(m.data, m.seq) for m in past] == heard_a[10:]
        await on_a.aclose()
        await on_b.aclose()


async def test_messages_published_before_subscribing_are_not_delivered(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    async with SQLiteChannel(path, poll=0.01) as a, SQLiteChannel(path, poll=0.01) as b:
        early = await a.subscribe("t")
        await b.publish("t", b"before")
        late = await a.subscribe("t")
        await b.publish("t", b"after")
        assert [d for d, _ in await _receive(early, 2)] == [b"before", b"after"]
        assert [d for d, _ in await _receive(late, 1)] == [b"after"]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(late.next(), 0.2)


async def test_history_is_bounded_by_count(tmp_path: Path) -> None:
    async with SQLiteChannel(str(tmp_path / "e.db"), history=3) as channel:
        start = await channel.head("t")
        assert start is not None
        async with await channel.subscribe("t") as sub:
            for i in range(5):
                await channel.publish("t", f"m{i}".encode())
            seqs = [seq for _, seq in await _receive(sub, 5)]
        assert await channel.since("t", start) is None  # m0 and m1 fell out
        assert await channel.since("t", str(seqs[0])) is None
        kept = await channel.since("t", str(seqs[1]))
        assert kept is not None
        assert [m.data for m in kept] == [b"m2", b"m3", b"m4"]


async def test_history_is_bounded_by_age(tmp_path: Path) -> None:
    async with SQLiteChannel(str(tmp_path / "e.db"), history_age=0.3) as channel:
        start = await channel.head("t")
        assert start is not None
        await channel.publish("t", b"old")
        assert await channel.since("t", start) is not None
        await asyncio.sleep(0.4)
        await channel.publish("t", b"new")
        assert await channel.since("t", start) is None  # "old" expired
        head = await channel.head("t")
        assert head is not None
        assert await channel.since("t", head) == []


async def test_a_replay_is_bounded_in_bytes(tmp_path: Path) -> None:
    async with SQLiteChannel(str(tmp_path / "e.db"), history_bytes=1000) as channel:
        start = await channel.head("t")
        assert start is not None
        for _ in range(3):
            await channel.publish("t", b"x" * 400)
        assert await channel.since("t", start) is None  # 1,200 bytes to replay
        middle = str(await channel.head("t")).rsplit(".", 1)
        second_last = f"{middle[0]}.{int(middle[1]) - 2}"
        replay = await channel.since("t", second_last)
        assert replay is not None
        assert len(replay) == 2


async def test_rows_are_trimmed_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    async with SQLiteChannel(str(path), history=10, trim_every=50) as channel:
        for i in range(1_200):
            await channel.publish("t", b"%d" % i)
        await channel.publish("other", b"x")
        head = await channel.head("t")
    with sqlite3.connect(path) as db:
        (rows,) = db.execute("SELECT count(*) FROM tbone_channel WHERE topic = 't'").fetchone()
    assert 1_000 <= rows <= 1_050  # 1,000 kept for other processes' pollers, trimmed every 50
    async with SQLiteChannel(str(path), history=10) as again:
        assert await again.head("t") == head  # the file remembers where topics stand


async def test_positions_of_another_or_a_recreated_file_are_foreign(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    async with SQLiteChannel(str(path)) as channel, SQLiteChannel(str(tmp_path / "x.db")) as x:
        await channel.publish("t", b"m")
        head = await channel.head("t")
        assert head is not None
        assert await x.since("t", head) is None
        assert await channel.since("t", head) == []
        epoch, _, number = head.partition(".")
        assert await channel.since("t", f"{epoch}.{int(number) + 1}") is None  # never given
        assert await channel.since("t", f"{epoch}.{'9' * 40}") is None
    _remove(tmp_path, "e.db*")
    async with SQLiteChannel(str(path)) as recreated:
        await recreated.publish("t", b"m")
        assert await recreated.since("t", head) is None


async def test_without_history_it_delivers_and_answers_resync(tmp_path: Path) -> None:
    path = str(tmp_path / "e.db")
    async with SQLiteChannel(path, history=0) as a, SQLiteChannel(path, history=0) as b:
        assert not a.keeps_history
        assert await a.head("t") is None
        async with await a.subscribe("t") as sub:
            await b.publish("t", b"live")
            assert [d for d, _ in await _receive(sub, 1)] == [b"live"]
        assert await a.since("t", "anything.1") is None


def test_url_options() -> None:
    channel = connect_channel(
        "sqlite:///events.db?history=50&history_age=7.5&history_bytes=99&poll=0.2&timeout=1"
    )
    assert isinstance(channel, SQLiteChannel)
    assert (channel.path, channel.history, channel.history_age) == ("events.db", 50, 7.5)
    assert (channel.history_bytes, channel.poll, channel.timeout) == (99, 0.2, 1.0)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///e.db?histroy=5", "unknown option"),
        ("sqlite:///e.db?history=2.5", "whole number"),
        ("sqlite:///e.db?poll=fast", "poll"),
        ("sqlite:///e.db?poll=0", "poll > 0"),
        ("sqlite://e.db", "not a SQLite URL"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SQLiteChannel.from_url(url)


async def test_a_file_that_cannot_be_opened_is_unavailable(tmp_path: Path) -> None:
    channel = SQLiteChannel(str(tmp_path / "missing-dir" / "e.db"))
    with pytest.raises(ChannelUnavailable, match="missing-dir"):
        await channel.publish("t", b"x")
    await channel.aclose()
