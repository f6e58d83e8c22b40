"""``ChannelConformance``: the channel conformance kit, as a base class of pytest test classes.

::

    from tbone.testing import ChannelConformance


    class TestRedisChannel(ChannelConformance):
        async def make_channel(self):
            return RedisChannel(redis_url)

        async def restart_broker(self):  # optional: enables the reconnect behaviour
            await redis_server.restart()

Each behaviour runs in its own event loop, like the store kit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import pytest

from tbone.channel import Channel, Subscription
from tbone.errors import ChannelUnavailable

from .plugin import SKIP_PREFIX
from .suites import install_tests, named_test

__all__ = ["ChannelConformance"]

WAIT = 5.0  # seconds a message may take to arrive, generous for shared CI machines
Run = Callable[["ChannelConformance", Channel], Awaitable[None]]


async def _receive(subscription: Subscription, count: int) -> list[bytes]:
    return [await asyncio.wait_for(subscription.get(), WAIT) for _ in range(count)]


async def _nothing_arrives(subscription: Subscription, within: float = 0.3) -> None:
    try:
        message = await asyncio.wait_for(subscription.get(), within)
    except (TimeoutError, ChannelUnavailable):
        return
    raise AssertionError(f"unexpected message {message[:80]!r}")


async def publish_subscribe(kit: ChannelConformance, channel: Channel) -> None:
    """A subscriber receives what is published on its topic after it subscribed."""
    async with await channel.subscribe("t1") as sub:
        await channel.publish("t1", b"hello")
        assert await _receive(sub, 1) == [b"hello"]


async def ordering(kit: ChannelConformance, channel: Channel) -> None:
    """Messages from one publisher arrive in publish order."""
    async with await channel.subscribe("order") as sub:
        sent = [str(i).encode() for i in range(500)]
        for message in sent:
            await channel.publish("order", message)
        assert await _receive(sub, len(sent)) == sent


async def fan_out(kit: ChannelConformance, channel: Channel) -> None:
    """Every subscriber of a topic receives every message."""
    subs = [await channel.subscribe("fan") for _ in range(3)]
    for i in range(10):
        await channel.publish("fan", f"m{i}".encode())
    for sub in subs:
        assert await _receive(sub, 10) == [f"m{i}".encode() for i in range(10)]
        await sub.aclose()


async def topics_are_separate(kit: ChannelConformance, channel: Channel) -> None:
    """A subscriber never receives messages of other topics."""
    async with await channel.subscribe("a") as a, await channel.subscribe("b") as b:
        await channel.publish("b", b"for-b")
        await channel.publish("a", b"for-a")
        assert await _receive(a, 1) == [b"for-a"]
        assert await _receive(b, 1) == [b"for-b"]
        await _nothing_arrives(a)


async def unsubscribe(kit: ChannelConformance, channel: Channel) -> None:
    """After ``aclose()`` a subscription gets nothing more; the others are unaffected."""
    gone = await channel.subscribe("u")
    kept = await channel.subscribe("u")
    await gone.aclose()
    await channel.publish("u", b"after")
    assert await _receive(kept, 1) == [b"after"]
    with pytest.raises(ChannelUnavailable):
        await asyncio.wait_for(gone.get(), WAIT)
    await kept.aclose()


async def payloads(kit: ChannelConformance, channel: Channel) -> None:
    """Any bytes travel unchanged: empty, binary, unicode, one megabyte."""
    messages = [b"", bytes(range(256)), "Señor ☃ 🐍".encode(), b"x" * (1 << 20)]
    async with await channel.subscribe("p") as sub:
        for message in messages:
            await channel.publish("p", message)
        assert await _receive(sub, len(messages)) == messages


async def many_subscriptions(kit: ChannelConformance, channel: Channel) -> None:
    """Subscribing and unsubscribing 200 times leaves the channel working."""
    for i in range(200):
        sub = await channel.subscribe(f"churn-{i % 7}")
        await sub.aclose()
    async with await channel.subscribe("churn-0") as sub:
        await channel.publish("churn-0", b"still")
        assert await _receive(sub, 1) == [b"still"]


async def closed_channel(kit: ChannelConformance, channel: Channel) -> None:
    """A closed channel refuses work with ``ChannelUnavailable`` and ends subscriptions."""
    sub = await channel.subscribe("c")
    await channel.aclose()
    with pytest.raises(ChannelUnavailable):
        await channel.publish("c", b"x")
    with pytest.raises(ChannelUnavailable):
        await channel.subscribe("c")
    with pytest.raises(ChannelUnavailable):
        await asyncio.wait_for(sub.get(), WAIT)


async def reconnect(kit: ChannelConformance, channel: Channel) -> None:
    """After the broker restarts, existing subscriptions receive new messages again."""
    async with await channel.subscribe("r") as sub:
        await channel.publish("r", b"before")
        assert await _receive(sub, 1) == [b"before"]
        await kit.restart_broker()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while True:  # messages during the outage may be lost: publish until one arrives
            try:
                await channel.publish("r", b"after")
                got = await asyncio.wait_for(sub.get(), 0.5)
            except (TimeoutError, ChannelUnavailable):
                if loop.time() > deadline:
                    raise AssertionError(
                        "no message arrived within 20 s of the broker restart"
                    ) from None
                continue
            if got == b"after":
                break


async def _history(channel: Channel) -> None:
    if not channel.keeps_history:
        pytest.skip(f"{SKIP_PREFIX}history: the channel keeps no history")


async def history_positions(kit: ChannelConformance, channel: Channel) -> None:
    """With history, every message has a distinct position, and ``since`` gives what came
    after one, in order; the head is where a topic stands."""
    await _history(channel)
    async with await channel.subscribe("h") as sub:
        start = await channel.head("h")
        assert start is not None
        for i in range(5):
            await channel.publish("h", f"m{i}".encode())
        got = [await asyncio.wait_for(sub.next(), WAIT) for _ in range(5)]
        seqs = [m.seq for m in got]
        assert [m.data for m in got] == [f"m{i}".encode() for i in range(5)]
        assert None not in seqs
        assert len(set(seqs)) == 5
        assert await channel.head("h") == seqs[-1]
        after_second = await channel.since("h", str(seqs[1]))
        assert after_second is not None
        assert [(m.data, m.seq) for m in after_second] == [(m.data, m.seq) for m in got[2:]]
        from_start = await channel.since("h", start)
        assert from_start is not None
        assert [m.seq for m in from_start] == seqs
        assert await channel.since("h", str(seqs[-1])) == []


async def history_refuses_foreign_positions(kit: ChannelConformance, channel: Channel) -> None:
    """``since`` answers None (resync) for positions that are not this channel's."""
    await _history(channel)
    await channel.publish("hf", b"x")
    for seq in ("nonsense", "", "0" * 100, "1.1.1", "99999999999999-0"):
        assert await channel.since("hf", seq) is None, seq


async def history_across_topics(kit: ChannelConformance, channel: Channel) -> None:
    """Messages of another topic never appear in a topic's history."""
    await _history(channel)
    start = await channel.head("ha")
    assert start is not None
    await channel.publish("hb", b"other")
    await channel.publish("ha", b"mine")
    past = await channel.since("ha", start)
    assert past is not None
    assert [m.data for m in past] == [b"mine"]


BEHAVIOURS: dict[str, Run] = {
    fn.__name__: fn
    for fn in (
        publish_subscribe,
        ordering,
        fan_out,
        topics_are_separate,
        unsubscribe,
        payloads,
        many_subscriptions,
        closed_channel,
        reconnect,
        history_positions,
        history_refuses_foreign_positions,
        history_across_topics,
    )
}


class ChannelConformance:
    """Base class of a channel's conformance tests; ``skip = {"name": "why"}`` opts out."""

    skip: ClassVar[dict[str, str]] = {}

    async def make_channel(self) -> Channel:
        raise NotImplementedError("implement make_channel(self) in your test class")

    async def restart_broker(self) -> None:
        """Stop and start the broker the channel talks to (for the reconnect behaviour)."""
        raise NotImplementedError

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        install_tests(cls, BEHAVIOURS, _test_for)

    def run_behaviour(self, name: str, run: Run) -> None:
        if name in self.skip:
            pytest.skip(f"{SKIP_PREFIX}{name}: {self.skip[name]}")
        if name == "reconnect" and type(self).restart_broker is ChannelConformance.restart_broker:
            pytest.skip(f"{SKIP_PREFIX}{name}: the test class has no broker to restart")
        asyncio.run(self._run(run))

    async def _run(self, run: Run) -> None:
        channel = await self.make_channel()
        async with channel:
            await run(self, channel)


def _test_for(name: str, run: Run) -> Callable[[ChannelConformance], None]:
    def test(self: ChannelConformance) -> None:
        self.run_behaviour(name, run)

    return named_test(name, run.__doc__, test)
