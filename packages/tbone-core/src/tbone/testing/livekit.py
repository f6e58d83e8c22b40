"""``LiveConformance``: the realtime-semantics conformance kit, for any channel + store pair.

::

    from tbone.testing.livekit import LiveConformance


    class TestRedisStreamsLive(LiveConformance):
        async def make_channel(self, name):  # two calls with one name reach each other
            return f"redis+streams://localhost:6379/0?prefix={name}:"

        def make_store(self):  # optional; memory:// by default
            return "sqlite:///tmp/kit.db"

Every behaviour builds an :class:`~tbone.API` on that pair with the kit's own resource and
drives real :class:`~tbone.realtime.Session` objects (the protocol, sans-io; transports are
the transport kit's business): entered/left, created/updated/deleted, one event per
subscriber per write, scope per subscriber, snapshot hand-off under concurrent writers,
resume after a ``seq`` (authorized as the subscriber is now), resync where the history does
not reach (always, on a channel that keeps none), a slow consumer closed for overflow that
resumes with nothing lost, ``seq`` order, and two APIs sharing one channel.

Each behaviour runs in its own event loop, like the other kits.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, ClassVar

import pytest

from tbone import API, BearerToken, Context, Model, Q, Resource
from tbone.channel import Channel
from tbone.http import Request
from tbone.realtime import CloseCode, Limits, Session
from tbone.storage import Store

from .plugin import SKIP_PREFIX
from .suites import install_tests, named_test

__all__ = ["LiveConformance", "LiveRun"]

WAIT = 10.0  # seconds an event may take to arrive, generous for shared CI machines
QUIET = 0.3  # seconds of silence that mean "nothing more is coming"

#: token -> user; a user sees the books of its teams (anonymous: every book)
TOKENS = {
    "all": {"name": "ana", "teams": ["red", "blue"]},
    "red": {"name": "ana", "teams": ["red"]},
}


class KitBook(Model):
    title: str
    author: str
    year: int = 0
    team: str = "red"


class KitBooks(Resource[KitBook]):
    model = KitBook
    name = "books"
    filter_fields = {"author": ["exact", "in"], "year": ["gte", "lte"]}
    order_fields = ("title", "year")
    max_page_size = 200

    def scope(self, ctx: Context) -> Q | None:
        if ctx.trusted or ctx.user is None:
            return None
        return Q(team__in=ctx.user["teams"])


HERBERT = {"type": "subscribe", "id": 1, "resource": "books", "filter": {"author": "Herbert"}}


class Peer:
    """The client end of one session: the frames it was sent and how it was closed."""

    def __init__(self, api: API, token: str | None = None) -> None:
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.closed: tuple[int, str] | None = None
        self.gone = asyncio.Event()
        self.reading = True
        self._ids = itertools.count(1)
        query = f"token={token}" if token else ""
        request = Request("GET", "/api/ws", query, {})
        self.session: Session = api.open_session(request, send=self._send, close=self._close)

    async def _send(self, text: str) -> None:
        if not self.reading:  # a client that does not read: the socket buffer stays full
            await asyncio.Event().wait()
        await self.frames.put(json.loads(text))

    async def _close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)
        self.gone.set()

    async def next(self, wait: float = WAIT) -> dict[str, Any]:
        return await asyncio.wait_for(self.frames.get(), wait)

    async def call(self, frame: dict[str, Any]) -> dict[str, Any]:
        await self.session.receive(json.dumps({**frame, "id": next(self._ids)}))
        return await self.next()

    async def subscribe(self, **frame: Any) -> dict[str, Any]:
        answer = await self.call({**HERBERT, **frame})
        assert answer["type"] == "subscribed", answer
        return answer

    async def events(self, count: int) -> list[dict[str, Any]]:
        got = [await self.next() for _ in range(count)]
        assert all(f["type"] == "event" for f in got), got
        return got

    async def quiet(self, within: float = QUIET) -> None:
        """Nothing more arrives."""
        try:
            frame = await asyncio.wait_for(self.frames.get(), within)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected frame {frame}")

    async def drain(self) -> None:
        """Take whatever arrives until nothing more does."""
        while True:
            try:
                await asyncio.wait_for(self.frames.get(), QUIET)
            except TimeoutError:
                return

    async def drop(self) -> None:
        """The socket goes away."""
        await self.session.finish()


class LiveRun:
    """What one behaviour works with: APIs on the kit's pair, and peers connected to them."""

    def __init__(self, kit: LiveConformance) -> None:
        self.kit = kit
        self.name = f"kit{uuid.uuid4().hex[:12]}"
        self.history = False

    @contextlib.asynccontextmanager
    async def api(self, limits: Limits | None = None) -> AsyncIterator[API]:
        """An API on the pair; two of one run share the channel (the same ``name``)."""
        api = API(
            stores=self.kit.make_store(),
            channel=await self.kit.make_channel(self.name),
            authenticator=BearerToken(TOKENS),
            realtime=limits or Limits(),
        )
        api.register(KitBooks)
        async with api:
            # a store that reports its own changes (watch) sends no event through the
            # channel: its resumes are answered resync, whatever the channel keeps
            watched = _books(api).store.supports("watch")
            self.history = api.hub.channel.keeps_history and not watched
            yield api

    async def connect(self, api: API, token: str | None = None) -> Peer:
        peer = Peer(api, token)
        assert await peer.session.start()
        return peer


Run = Callable[[LiveRun], Coroutine[Any, Any, None]]


def _books(api: API) -> Resource[Any]:
    return api.resource("books")


def _pairs(events: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(e["event"], e["pk"]) for e in events]


async def entered_and_left(run: LiveRun) -> None:
    """An update moving an object out of a filter sends ``left`` (the key, never the data);
    back in, ``entered`` with the data; out and staying out, nothing."""
    async with run.api() as api:
        peer = await run.connect(api)
        await peer.subscribe()
        books = _books(api)
        dune = await books.create({"title": "Dune", "author": "Herbert"})
        assert _pairs(await peer.events(1)) == [("created", dune.id)]
        await books.update(dune.id, {"author": "Someone"})
        (left,) = await peer.events(1)
        assert (left["event"], left["pk"], "data" in left) == ("left", dune.id, False)
        await books.update(dune.id, {"year": 1965})  # out of view, stays out
        await books.update(dune.id, {"author": "Herbert"})
        (entered,) = await peer.events(1)
        assert (entered["event"], entered["data"]["year"]) == ("entered", 1965)
        await peer.quiet()


async def created_updated_deleted(run: LiveRun) -> None:
    """Objects that stay visible get ``created``, ``updated``, ``deleted`` (with the last
    data); a subscription to one key hears only that object; old clients that list
    ``events`` without entered/left get neither."""
    async with run.api() as api:
        books = _books(api)
        peer = await run.connect(api)
        await peer.subscribe()
        old = await run.connect(api)
        await old.subscribe(events=["created", "updated", "deleted"])
        dune = await books.create({"title": "Dune", "author": "Herbert"})
        first = await peer.events(1)  # delivered: what comes next is news to a new subscriber
        one = await run.connect(api)
        await one.subscribe(filter={}, pk=dune.id)
        await books.create({"title": "Other", "author": "Herbert"})
        await books.update(dune.id, {"year": 1965})
        await books.update(dune.id, {"author": "Else"})
        await books.delete(dune.id)
        got = first + await peer.events(3)
        assert [e["event"] for e in got] == ["created", "created", "updated", "left"]
        assert [e["event"] for e in await old.events(3)] == ["created", "created", "updated"]
        seen = await one.events(3)
        assert [e["event"] for e in seen] == ["updated", "updated", "deleted"]
        assert seen[2]["data"]["author"] == "Else"  # the last data
        for p in (peer, old, one):
            await p.quiet()


async def one_event_per_subscriber_per_write(run: LiveRun) -> None:
    """Every subscription a write concerns gets exactly one event for it (several on one
    socket included); the others get none."""
    async with run.api() as api:
        peers = [await run.connect(api) for _ in range(3)]
        for peer in peers:
            await peer.subscribe()
            await peer.subscribe(filter={"author__in": ["Herbert", "Le Guin"]})
            await peer.subscribe(filter={"author": "Nobody"})
        books = _books(api)
        made = [await books.create({"title": f"b{i}", "author": "Herbert"}) for i in range(5)]
        for peer in peers:
            got = await peer.events(10)
            assert sorted(e["subscription"] for e in got) == ["s1"] * 5 + ["s2"] * 5
            for sub in ("s1", "s2"):
                assert [e["pk"] for e in got if e["subscription"] == sub] == [b.id for b in made]
            await peer.quiet()


async def scope_per_subscriber(run: LiveRun) -> None:
    """Events are checked per subscriber: the scope of its identity decides what it hears,
    and an object moving out of its scope sends it ``left``."""
    async with run.api() as api:
        red = await run.connect(api, "red")
        await red.subscribe()
        everything = await run.connect(api, "all")
        await everything.subscribe()
        books = _books(api)
        await books.create({"title": "b", "author": "Herbert", "team": "blue"})
        dune = await books.create({"title": "Dune", "author": "Herbert", "team": "red"})
        await books.update(dune.id, {"team": "blue"})
        assert [e["event"] for e in await red.events(2)] == ["created", "left"]
        assert [e["event"] for e in await everything.events(3)] == [
            "created",
            "created",
            "updated",
        ]
        await red.quiet()


async def snapshot_handoff_with_writers(run: LiveRun) -> None:
    """Clients subscribing with a snapshot while writers run miss no event and get none
    twice: the snapshot plus the events after it is exactly the data."""
    async with run.api() as api:
        books = _books(api)
        made = [await books.create({"title": f"b{i:02}", "author": "Herbert"}) for i in range(18)]
        stop = asyncio.Event()

        async def writer(part: int) -> None:
            # one writer per object, so each object's years rise in commit order
            mine = made[part::3]
            for year in itertools.count(1):
                if stop.is_set():
                    return
                await books.update(mine[year % len(mine)].id, {"year": year})
                await asyncio.sleep(0)

        writing = [asyncio.create_task(writer(part)) for part in range(3)]
        views: list[tuple[Peer, dict[Any, int]]] = []
        try:
            for i in range(8):
                peer = await run.connect(api)
                answer = await peer.subscribe(snapshot=True, limit=50)
                views.append((peer, {o["id"]: o["year"] for o in answer["objects"]}))
                await asyncio.sleep(0.002 * i)
        finally:
            stop.set()
            await asyncio.gather(*writing)
        truth = {b.id: b.year for b in await books.collection.find(limit=100)}
        for peer, view in views:
            await _follow(peer, view, truth)


async def _follow(peer: Peer, view: dict[Any, int], truth: dict[Any, int]) -> None:
    """Apply the peer's events to its view until it is the truth; each must be news."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while view != truth:
        event = await peer.next(wait=max(0.01, deadline - loop.time()))
        assert event["event"] == "updated", event
        year = event["data"]["year"]
        assert year > view[event["pk"]], f"a repeated or stale event: {event}"
        view[event["pk"]] = year
    await peer.quiet()


async def resume_after(run: LiveRun) -> None:
    """``after`` the last seq seen replays exactly the events missed meanwhile, as the
    subscriber sees them now, then goes live; without history the answer says resync."""
    async with run.api() as api:
        books = _books(api)
        first = await run.connect(api)
        await first.subscribe()
        dune = await books.create({"title": "Dune", "author": "Herbert"})
        (seen,) = await first.events(1)
        await first.drop()
        await books.update(dune.id, {"year": 1965})
        await books.create({"title": "Emma", "author": "Austen"})  # not in the view
        await books.update(dune.id, {"author": "Someone"})
        again = await run.connect(api)
        answer = await again.subscribe(after=seen["seq"])
        if not run.history:
            assert answer["resync"] is True
            await again.drain()  # the client re-fetches; events after the answer may come
        else:
            assert "resync" not in answer
            missed = await again.events(2)
            assert _pairs(missed) == [("updated", dune.id), ("left", dune.id)]
            assert len({seen["seq"], *(e["seq"] for e in missed)}) == 3
        await books.update(dune.id, {"author": "Herbert"})
        assert _pairs(await again.events(1)) == [("entered", dune.id)]  # live from there
        await again.quiet()


async def replays_are_authorized_now(run: LiveRun) -> None:
    """A replay is checked with the identity the subscriber has when it resumes: what it may
    no longer see is not replayed (an update of it is ``left``)."""
    async with run.api() as api:
        if not run.history:
            pytest.skip(f"{SKIP_PREFIX}replays_are_authorized_now: the channel keeps no history")
        books = _books(api)
        first = await run.connect(api, "all")
        await first.subscribe()
        dune = await books.create({"title": "Dune", "author": "Herbert", "team": "red"})
        (seen,) = await first.events(1)
        await first.drop()
        blue = await books.create({"title": "Blue", "author": "Herbert", "team": "blue"})
        red = await books.create({"title": "Red", "author": "Herbert", "team": "red"})
        await books.update(dune.id, {"team": "blue"})
        await books.update(blue.id, {"year": 1})
        again = await run.connect(api, "red")
        await again.subscribe(after=seen["seq"])
        assert _pairs(await again.events(2)) == [("created", red.id), ("left", dune.id)]
        await again.quiet()


async def resync_beyond_history(run: LiveRun) -> None:
    """Positions the history does not cover (foreign, malformed, or further back than one
    resume may replay) answer ``resync``, with the snapshot when asked, and go live."""
    limits = Limits(max_replay=3)
    async with run.api(limits) as api:
        books = _books(api)
        first = await run.connect(api)
        start = (await first.subscribe())["seq"]
        await books.create({"title": "Dune", "author": "Herbert"})
        peer = await run.connect(api)
        for after in ("nonsense", "ffffffff.1", "0" * 200, "h0123abcd.5"):
            answer = await peer.subscribe(after=after, snapshot=True)
            assert answer["resync"] is True, after
            assert [o["title"] for o in answer["objects"]] == ["Dune"]
        for i in range(5):  # with Dune, more than max_replay
            await books.create({"title": f"b{i}", "author": "Herbert"})
        await first.events(6)  # all dispatched: what comes next is news to a new subscriber
        again = await run.connect(api)
        assert (await again.subscribe(after=start))["resync"] is True
        await books.create({"title": "live", "author": "Herbert"})
        (live,) = await again.events(1)
        assert live["data"]["title"] == "live"


async def slow_consumer_resumes(run: LiveRun) -> None:
    """A client that does not read is closed (1008) when its queue overflows; it resumes
    after the last seq it got and receives every event it missed: none dropped silently
    (or, without history, it is told resync)."""
    async with run.api(Limits(send_queue=8)) as api:
        books = _books(api)
        slow = await run.connect(api)
        start = (await slow.subscribe())["seq"]
        slow.reading = False
        made = [await books.create({"title": f"b{i}", "author": "Herbert"}) for i in range(30)]
        await asyncio.wait_for(slow.gone.wait(), WAIT)
        assert slow.closed is not None
        assert slow.closed[0] == CloseCode.POLICY
        again = await run.connect(api)
        answer = await again.subscribe(after=start)
        if not run.history:
            assert answer["resync"] is True
            return
        got = await again.events(len(made))
        assert [e["pk"] for e in got] == [b.id for b in made]
        await again.quiet()


async def seq_ordered(run: LiveRun) -> None:
    """Events come in commit order with distinct seqs; resuming after the k-th replays
    exactly those after it, in order."""
    async with run.api() as api:
        books = _books(api)
        peer = await run.connect(api)
        await peer.subscribe()
        dune = await books.create({"title": "Dune", "author": "Herbert"})
        for year in range(1, 16):
            await books.update(dune.id, {"year": year})
        got = await peer.events(16)
        assert [e["data"]["year"] for e in got] == list(range(16))
        seqs = [e["seq"] for e in got]
        assert len(set(seqs)) == 16
        if not run.history:
            return
        again = await run.connect(api)
        await again.subscribe(after=seqs[9])
        replayed = await again.events(6)
        assert [e["data"]["year"] for e in replayed] == list(range(10, 16))
        assert [e["seq"] for e in replayed] == seqs[10:]
        await again.quiet()


async def across_apis(run: LiveRun) -> None:
    """Two APIs on one channel (two processes): a write through one reaches subscribers of
    the other, and a client resumes on one after a seq (of an event, or of a snapshot) it got
    from the other."""
    async with run.api() as a:
        if a.hub.channel.in_process:
            pytest.skip(f"{SKIP_PREFIX}across_apis: the channel lives in one process")
        async with run.api() as b:
            on_a = await run.connect(a)
            snapshot = (await on_a.subscribe(snapshot=True))["seq"]
            await on_a.subscribe()
            dune = await _books(b).create({"title": "Dune", "author": "Herbert"})
            seen = (await on_a.events(2))[1]
            assert (seen["event"], seen["pk"]) == ("created", dune.id)
            await on_a.drop()
            await _books(b).update(dune.id, {"year": 1965})
            for after, count in ((seen["seq"], 1), (snapshot, 2)):
                on_b = await run.connect(b)
                answer = await on_b.subscribe(after=after)
                if not run.history:
                    assert answer["resync"] is True
                    continue
                assert "resync" not in answer
                missed = await on_b.events(count)
                assert [e["event"] for e in missed] == ["created", "updated"][-count:]
                assert missed[-1]["data"]["year"] == 1965
                await on_b.quiet()


BEHAVIOURS: dict[str, Run] = {
    fn.__name__: fn
    for fn in (
        entered_and_left,
        created_updated_deleted,
        one_event_per_subscriber_per_write,
        scope_per_subscriber,
        snapshot_handoff_with_writers,
        resume_after,
        replays_are_authorized_now,
        resync_beyond_history,
        slow_consumer_resumes,
        seq_ordered,
        across_apis,
    )
}


class LiveConformance:
    """Base class of a channel + store pair's realtime tests; ``skip = {"name": "why"}``."""

    skip: ClassVar[dict[str, str]] = {}

    async def make_channel(self, name: str) -> Channel | str:
        """A channel (or its URL); calls with the same ``name`` must reach each other."""
        raise NotImplementedError("implement make_channel(self, name) in your test class")

    def make_store(self) -> Store | str:
        """The store of the kit's resource (a new one each call); memory:// by default."""
        return "memory://"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        install_tests(cls, BEHAVIOURS, _test_for)

    def run_behaviour(self, name: str, run: Run) -> None:
        if name in self.skip:
            pytest.skip(f"{SKIP_PREFIX}{name}: {self.skip[name]}")
        asyncio.run(run(LiveRun(self)))


def _test_for(name: str, run: Run) -> Callable[[LiveConformance], None]:
    def test(self: LiveConformance) -> None:
        self.run_behaviour(name, run)

    return named_test(name, run.__doc__, test)
