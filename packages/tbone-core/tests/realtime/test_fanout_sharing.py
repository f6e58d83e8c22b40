"""Fan-out to many subscriptions: a write is decided once per distinct view (filter, scope,
key, events), and each subscriber still gets its own frame and its own checks (issue 11)."""

from __future__ import annotations

from typing import Any

import pytest

from tbone import API
from tbone.realtime.live import LiveSubscription, view_of
from tbone.storage.path import resolve
from tbone.storage.query import Filter

from .conftest import Book, connect, make_api


async def _subscribe(api: API, **frame: Any) -> Any:
    peer = await connect(api)
    answer = await peer.call({"type": "subscribe", "id": 1, "resource": "books", **frame})
    assert answer["type"] == "subscribed", answer
    return peer


async def test_equal_subscriptions_are_decided_once(monkeypatch: pytest.MonkeyPatch) -> None:
    decided: list[str] = []
    kind_of = LiveSubscription.kind_of

    def counted(self: LiveSubscription, *args: Any) -> str | None:
        decided.append(self.id)
        return kind_of(self, *args)

    monkeypatch.setattr(LiveSubscription, "kind_of", counted)
    async with make_api() as api:
        herbert = [await _subscribe(api, filter={"author": "Herbert"}) for _ in range(5)]
        austen = await _subscribe(api, filter={"author": "Austen"})
        everything = [await _subscribe(api) for _ in range(3)]
        decided.clear()
        dune = await api.resource("books").create({"title": "Dune", "author": "Herbert"})
        for peer in [*herbert, *everything]:
            event = await peer.next()
            assert (event["event"], event["pk"], event["subscription"]) == (
                "created",
                dune.id,
                "s1",
            )
        await austen.nothing()
        # candidates: the five Herbert subscriptions and the three unfiltered ones, two views
        assert len(decided) == 2
        decided.clear()
        await api.resource("books").update(dune.id, {"author": "Austen"})
        for peer in herbert:
            assert (await peer.next())["event"] == "left"
        assert (await austen.next())["event"] == "entered"
        for peer in everything:
            assert (await peer.next())["event"] == "updated"
        assert len(decided) == 3


def test_views_tell_apart_values_that_are_equal_but_differ() -> None:
    target = resolve(Book, ["year"])
    events = frozenset({"created"})
    one, true = Filter(target, "exact", 1), Filter(target, "exact", True)
    assert one == true  # equal as Python values: a dict keyed by the nodes would share them
    assert view_of(one, None, None, events) is not view_of(true, None, None, events)
    again = Filter(target, "exact", 1)
    assert view_of(one, None, None, events) is view_of(again, None, None, events)
    assert view_of(one, None, None, events) is not view_of(one, None, None, frozenset({"deleted"}))
