"""In one process (the memory channel) a committed write reaches subscribers as it is: its
envelope is not encoded to JSON, decoded again, nor its object validated again (issue 11)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import tbone.realtime.hub as hub_module
from tbone import API
from tbone.channel import Channel, MemoryChannel

from .conftest import Book, connect, make_api


class _Counted:
    """Counts the calls of a function (those whose first argument is ``of``) and still
    calls it."""

    def __init__(self, function: Callable[..., Any], of: type = object) -> None:
        self.function = function
        self.of = of
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if isinstance(args[0], self.of):
            self.calls += 1
        return self.function(*args, **kwargs)


@pytest.fixture
def codec(monkeypatch: pytest.MonkeyPatch) -> dict[str, _Counted]:
    """The hub's envelope codec (JSON both ways) and the model's loader, counted."""
    counted = {
        "encode": _Counted(hub_module.encode_json),
        # envelopes come in as bytes (the test's client decodes text frames)
        "decode": _Counted(hub_module.json.loads, bytes | bytearray),
        "load": _Counted(Book.from_data),
    }
    monkeypatch.setattr(hub_module, "encode_json", counted["encode"])
    monkeypatch.setattr(hub_module.json, "loads", counted["decode"])
    monkeypatch.setattr(Book, "from_data", counted["load"])
    return counted


async def _subscribed(api: API, **frame: Any) -> Any:
    peer = await connect(api)
    answer = await peer.call({"type": "subscribe", "id": 1, "resource": "books", **frame})
    assert answer["type"] == "subscribed", answer
    return peer


@pytest.mark.parametrize("history", [0, 100])
async def test_memory_channel_passes_the_committed_object(
    codec: dict[str, _Counted], history: int
) -> None:
    async with make_api(channel=MemoryChannel(history=history)) as api:
        peer = await _subscribed(api, filter={"author": "Herbert"})
        books = api.resource("books")
        for counter in codec.values():
            counter.calls = 0
        dune = await books.create({"title": "Dune", "author": "Herbert"})
        loads_of_the_write = codec["load"].calls  # the client's data, validated once
        event = await peer.next()
        assert (event["event"], event["pk"], event["data"]["title"]) == ("created", dune.id, "Dune")
        # the frame's data is encoded once (and the envelope once more, for the history, where
        # there is one); the envelope is not decoded, nor the object validated again
        codec["load"].calls -= loads_of_the_write
        assert codec["encode"].calls == (2 if history else 1)
        assert codec["decode"].calls == 0
        assert codec["load"].calls == 0


async def _dune_created_and_updated(api: API) -> tuple[Any, Any, Any, Any]:
    """A subscriber, and a book created then updated: (peer, the updated book as the update
    returned it, the created event, the updated event)."""
    peer = await _subscribed(api)
    books = api.resource("books")
    dune = await books.create({"title": "Dune", "author": "Herbert"})
    created = await peer.next()
    dune = await books.update(dune.id, {"year": 1965})
    return peer, dune, created, await peer.next()


async def test_resume_replays_in_process_events_from_their_encoded_history(
    codec: dict[str, _Counted],
) -> None:
    async with make_api() as api:
        peer, dune, first, updated = await _dune_created_and_updated(api)
        await api.resource("books").delete(dune.id)
        events = [updated, await peer.next()]
        codec["decode"].calls = codec["load"].calls = 0
        again = await _subscribed(api, after=first["seq"])
        replayed = [await again.next(), await again.next()]
        assert [e["event"] for e in replayed] == ["updated", "deleted"]
        assert [e["seq"] for e in replayed] == [e["seq"] for e in events]
        assert replayed[0]["data"]["year"] == 1965
        # the history keeps bytes: a replay decodes each envelope once, as from another process
        assert codec["decode"].calls == 2


async def test_the_history_keeps_a_write_as_it_was_committed() -> None:
    async with make_api() as api:
        _, dune, first, updated = await _dune_created_and_updated(api)
        assert updated["data"]["year"] == 1965
        dune.year = 2000  # the object the update committed changes afterwards: the history not
        again = await _subscribed(api, after=first["seq"])
        replayed = await again.next()
        assert (replayed["seq"], replayed["data"]["year"]) == (updated["seq"], 1965)


async def test_a_channel_that_leaves_the_process_gets_the_encoded_envelope() -> None:
    sent: list[bytes] = []

    class Wire(Channel):
        async def publish(self, topic: str, message: bytes) -> None:
            sent.append(message)

        async def subscribe(self, topic: str) -> Any:
            raise NotImplementedError

    await Wire().publish_value("t", ({"a": 1}, object()), lambda v: repr(v[0]).encode())
    assert sent == [b"{'a': 1}"]


async def test_memory_history_bounds_values_by_their_encoded_size() -> None:
    async with MemoryChannel(history_bytes=1000) as channel:
        start = await channel.head("t")
        assert start is not None
        doc = {"title": "x" * 100}
        heard = await channel.subscribe("t")
        for _ in range(50):
            await channel.publish_value("t", doc, lambda v: b"%d" % len(v["title"]) * 33)
        live = await heard.next()
        assert live.value is doc  # subscribers get the value itself
        kept = await channel.since("t", start)
        assert kept is None  # the oldest were dropped: 50 x 99 bytes were published
        head = await channel.head("t")
        assert head is not None
        epoch = head.rsplit(".", 1)[0]
        assert await channel.since("t", f"{epoch}.39") is None  # 11 x 99 > 1000
        last = await channel.since("t", f"{epoch}.40")
        assert last is not None
        assert [m.seq for m in last] == [f"{epoch}.{n}" for n in range(41, 51)]
        assert all(m.data == b"100" * 33 and m.value is None for m in last)


async def test_an_event_nobody_here_hears_skips_the_hub_queue() -> None:
    """Published with no subscription in this process, an in-process event moves the hub's
    position at once (no task wake-up); with a subscriber it goes through the queue."""
    async with make_api() as api:
        inbox = api.hub._inbox
        assert inbox is not None
        books = api.resource("books")
        await books.create({"title": "Dune", "author": "Herbert"})
        assert inbox.queue.qsize() == 0  # type: ignore[attr-defined]
        assert api.hub.last_seq == await api.hub.channel.head(api.hub.topic)
        peer = await _subscribed(api)
        await books.create({"title": "Emma", "author": "Austen"})
        assert inbox.queue.qsize() == 1  # type: ignore[attr-defined]  # for _listen to deliver
        event = await peer.next()
        assert event["data"]["title"] == "Emma"
        assert api.hub.last_seq == event["seq"]
