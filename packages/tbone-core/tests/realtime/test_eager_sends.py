"""Sends run in the caller (``tbone.realtime.eager``): no task per connection, none per frame
unless a send waits, and frames still leave in order."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tbone import API
from tbone.http import Request
from tbone.realtime.eager import start

from .conftest import connect


def _session_tasks() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("tbone session")]


async def test_start_finishes_what_does_not_wait() -> None:
    done: list[str] = []

    async def send(text: str) -> str:
        done.append(text)
        return text

    assert start(send("a")) is None
    assert done == ["a"]


async def test_start_hands_over_what_waits_and_its_result() -> None:
    gate = asyncio.Event()
    steps: list[str] = []

    async def send(text: str) -> str:
        steps.append("before")
        await gate.wait()
        steps.append("after")
        return text.upper()

    rest = start(send("a"))
    assert rest is not None
    assert steps == ["before"]
    task = asyncio.ensure_future(_await(rest))
    await asyncio.sleep(0)
    assert not task.done()
    gate.set()
    assert await task == "A"
    assert steps == ["before", "after"]


async def _await(rest: Any) -> Any:
    return await rest


async def test_errors_come_out_where_they_happen() -> None:
    async def fails_at_once() -> None:
        raise ValueError("at once")

    with pytest.raises(ValueError, match="at once"):
        start(fails_at_once())

    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise ValueError("later")

    rest = start(fails_later())
    assert rest is not None
    with pytest.raises(ValueError, match="later"):
        await rest


async def test_cancelling_the_task_cancels_what_waits() -> None:
    cleaned: list[bool] = []

    async def send() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append(True)

    rest = start(send())
    assert rest is not None
    task = asyncio.ensure_future(_await(rest))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == [True]


async def test_idle_sessions_run_no_task(api: API) -> None:
    peers = [await connect(api) for _ in range(20)]
    for peer in peers:
        assert (await peer.call({"type": "subscribe", "id": 1, "resource": "books"}))["type"] == (
            "subscribed"
        )
    await asyncio.sleep(0)
    assert _session_tasks() == []
    book = await api.resource("books").create({"title": "Dune", "author": "Herbert"})
    for peer in peers:
        assert (await peer.next())["pk"] == book.id
    assert _session_tasks() == []


async def test_frames_sent_while_a_send_waits_follow_it_in_order(api: API) -> None:
    """A client that reads slowly: its sends wait, the frames queued meanwhile go out after
    them, in order, and then sends run in the caller again."""
    received: list[dict[str, Any]] = []
    slow = asyncio.Event()

    async def send(text: str) -> None:
        if not slow.is_set():
            await asyncio.sleep(0.01)  # the transport waits for the client to read
        received.append(json.loads(text))

    async def close(code: int, reason: str) -> None:
        pass

    session = api.open_session(Request("GET", "/api/ws", "", {}), send=send, close=close)
    assert await session.start()
    for i in range(30):
        await session.receive(json.dumps({"type": "subscribe", "id": i, "resource": "books"}))
    assert _session_tasks()  # a sender is at work
    for _ in range(200):
        if len(received) == 30:
            break
        await asyncio.sleep(0.01)
    assert [frame["id"] for frame in received] == list(range(30))
    assert [frame["type"] for frame in received[:5]] == ["subscribed"] * 5
    assert _session_tasks() == []  # all sent: no task left
    slow.set()
    await session.receive('{"type":"ping"}')
    assert received[-1] == {"type": "pong"}  # sent in the caller, at once
    await session.finish()
