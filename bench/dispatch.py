"""Event dispatch: what one write costs the hub with many subscriptions (issue 10, item 7).

Sessions are driven sans-io, with a send that drops frames, so only TBone's own work is timed:
matching the write against the subscriptions, the per-subscriber checks, and building frames.
Rows: N subscriptions on distinct equality filters, of which the write concerns one; and 1,000
subscriptions that all match (every one gets a frame). Best of several rounds.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from bench.results import Section
from tbone import API, Model, Resource, field
from tbone.data import set_version
from tbone.http import Request

WRITES = 300


class Item(Model):
    name: str
    owner: str = field(default="")


class ItemResource(Resource[Item]):
    model = Item
    name = "items"
    filter_fields = {"owner": ["exact"]}


async def _drop(text: str) -> None:
    return None


async def _closed(code: int, reason: str) -> None:
    return None


async def _subscribe(api: API, filters: list[dict[str, Any]]) -> None:
    for i, flt in enumerate(filters):
        session = api.open_session(Request("GET", "/api/ws"), send=_drop, close=_closed)
        assert await session.start()
        frame = {"type": "subscribe", "id": i, "resource": "items", "filter": flt}
        await session.receive(json.dumps(frame))


async def _per_write(subscriptions: int, all_match: bool) -> float:
    api = API()
    api.register(ItemResource)
    async with api:
        owners = [{"owner": "everyone" if all_match else f"o{i}"} for i in range(subscriptions)]
        await _subscribe(api, owners)
        resource = api.resource("items")
        item = Item(name="x", owner="everyone" if all_match else "o0")
        set_version(item, 1)
        envelope = {"event": "created", "doc": item.to_data(full=True), "version": 1}
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for n in range(WRITES):
                await api.hub.deliver(resource, envelope, f"bench.{n}")
            best = min(best, (time.perf_counter() - start) / WRITES)
            await asyncio.sleep(0.01)  # let the writers drain the queues
        return best


def run() -> Section:
    rows = {
        "10 subscriptions, 1 concerned": asyncio.run(_per_write(10, False)),
        "1,000 subscriptions, 1 concerned": asyncio.run(_per_write(1_000, False)),
        "10,000 subscriptions, 1 concerned": asyncio.run(_per_write(10_000, False)),
        "1,000 subscriptions, all concerned": asyncio.run(_per_write(1_000, True)),
    }
    base = rows["10 subscriptions, 1 concerned"]
    lines = ["Event dispatch: cost of one write in the hub (best of 3 rounds)"]
    section = Section("")
    for name, seconds in rows.items():
        lines.append(f"  {name:<38} {seconds * 1e6:10.1f} µs   {seconds / base:6.2f}x of 10")
        section.add(f"dispatch/{name}", **{"µs per write": seconds * 1e6, "vs 10": seconds / base})
    ratio = rows["10,000 subscriptions, 1 concerned"] / base
    lines.append(f"  target: 10,000 non-matching within 2x of 10 -> {ratio:.2f}x")
    section.text = "\n".join(lines)
    return section


if __name__ == "__main__":
    print(run().text)
