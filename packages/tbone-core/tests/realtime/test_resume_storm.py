"""Resume storms: many sockets reconnecting with ``after`` at once cost bounded work each, and a
client that resumes without reading is closed instead of being held for."""

from __future__ import annotations

import asyncio

from tbone import API
from tbone.realtime import CloseCode, Limits

from .conftest import connect, make_api

SUBSCRIBE = {"type": "subscribe", "id": 1, "resource": "books"}


async def _positions(api: API, count: int) -> str:
    peer = await connect(api)
    seq: str = (await peer.call(SUBSCRIBE))["seq"]
    await peer.session.finish()
    books = api.resource("books")
    for i in range(count):
        await books.create({"title": f"b{i}", "author": "A"})
    return seq


async def test_a_hundred_sockets_resume_at_once_and_miss_nothing() -> None:
    async with make_api(realtime=Limits(max_replay=50)) as api:
        seq = await _positions(api, 40)
        peers = [await connect(api) for _ in range(100)]
        answers = await asyncio.gather(*(p.call({**SUBSCRIBE, "after": seq}) for p in peers))
        assert not any(a.get("resync") for a in answers)
        for peer in peers:
            got = [await peer.next() for _ in range(40)]
            assert [e["data"]["title"] for e in got] == [f"b{i}" for i in range(40)]
            await peer.nothing(within=0.01)
        assert api.hub.subscription_count() == 100


async def test_a_gap_longer_than_max_replay_answers_resync_at_once() -> None:
    async with make_api(realtime=Limits(max_replay=50)) as api:
        seq = await _positions(api, 51)
        peers = [await connect(api) for _ in range(100)]
        answers = await asyncio.gather(*(p.call({**SUBSCRIBE, "after": seq}) for p in peers))
        assert all(a["resync"] is True for a in answers)
        for peer in peers:
            await peer.nothing(within=0.01)  # nothing replayed


async def test_a_resumer_that_does_not_read_is_closed_not_held_for() -> None:
    async with make_api(realtime=Limits(send_queue=20)) as api:
        seq = await _positions(api, 200)  # far more than its queue
        slow = await connect(api)
        slow.reading = False
        resuming = asyncio.create_task(slow.send({**SUBSCRIBE, "after": seq}))
        for _ in range(500):  # until its replay is under way, waiting for it to read
            if slow.session.subscriptions:
                break
            await asyncio.sleep(0.01)
        books = api.resource("books")
        for i in range(50):  # live events while its replay waits for it to read
            await books.create({"title": f"live{i}", "author": "A"})
        await asyncio.wait_for(resuming, 5)  # the session gave up on it
        assert slow.closed == (CloseCode.POLICY, "send queue overflow")
        assert api.hub.subscription_count() == 0
