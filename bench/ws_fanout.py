"""WebSocket event fan-out: one write reaching N subscribed sockets, TBone vs a raw broadcast.

``python bench/ws_fanout.py`` prints the table; :func:`bench_ws` is what ``bench/run.py`` calls.

Each server runs in its own process (pinned to one core where the OS allows); the N clients run
in another process (on the other core) and also make the writes, so that send and receipt times
come from one clock. One round = one write; latency is from just before the write's HTTP request
to each client's receipt of the event frame. Every server is measured in three passes (fresh
servers each, one server after the other in each pass), and the best of each figure kept.

- ``tbone-aiohttp`` / ``tbone-sanic``: a TBone API on the memory store; clients subscribe to
  ``books`` and each round POSTs a book, so a round pays for the whole path (HTTP, validation,
  store, hub, per-socket send queues);
- ``raw-aiohttp`` / ``raw-sanic``: a hand-written handler on the same server that sends the same
  bytes (a TBone event frame) to every connected socket in a loop, triggered by a POST.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

    from bench.results import Section

HERE = Path(__file__).resolve()
SERVERS = ["tbone-aiohttp", "raw-aiohttp", "tbone-sanic", "raw-sanic"]
BOOK = {"title": "Dune", "author": "Herbert", "year": 1965, "tags": ["scifi"]}
# What TBone sends each subscriber for that write; the raw servers send exactly these bytes.
FRAME = json.dumps(
    {
        "type": "event",
        "subscription": "s1",
        "resource": "books",
        "event": "created",
        "pk": "0" * 32,
        "data": {"id": "0" * 32, **BOOK, "in_print": True},
    },
    separators=(",", ":"),
)


async def open_sockets(
    session: aiohttp.ClientSession, url: str, n: int, *, subscribe: bool
) -> list[aiohttp.ClientWebSocketResponse]:
    """``n`` WebSockets to ``url``, opened in batches of 50 (a listen backlog of 100 drops
    bursts); each subscribed to ``books`` when ``subscribe`` (TBone's servers)."""
    sockets: list[aiohttp.ClientWebSocketResponse] = []
    for start in range(0, n, 50):
        batch = [
            session.ws_connect(url, protocols=("tbone.v1",)) for _ in range(min(50, n - start))
        ]
        sockets += await asyncio.gather(*batch)
    if subscribe:
        for ws in sockets:
            await ws.send_str('{"type":"subscribe","id":1,"resource":"books"}')
            assert (await ws.receive_json())["type"] == "subscribed"
    return sockets


# -- servers (each in its own process) -------------------------------------------------------


def serve(kind: str, port: int) -> None:
    _pin(0)
    if kind.startswith("tbone-"):
        from tbone import API, Model, Resource, field, plugins

        class Book(Model):
            title: str = field(min_length=1, max_length=200)
            author: str
            year: int | None = None
            tags: list[str] = field(factory=list)
            in_print: bool = True

        class BookResource(Resource[Book]):
            model = Book
            name = "books"

        api = API(prefix="/api", stores="memory://")
        api.register(BookResource)
        plugins.load("transport", kind.removeprefix("tbone-"))().serve(api, port=port)
    elif kind == "raw-aiohttp":
        _raw_aiohttp(port)
    else:
        _raw_sanic(port)


def _raw_aiohttp(port: int) -> None:
    from aiohttp import web

    sockets: set[web.WebSocketResponse] = set()

    async def feed(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        sockets.add(ws)
        try:
            async for _ in ws:
                pass
        finally:
            sockets.discard(ws)
        return ws

    async def broadcast(request: web.Request) -> web.Response:
        text = await request.text()
        for ws in list(sockets):
            await ws.send_str(text)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_get("/ws", feed)
    app.router.add_post("/broadcast", broadcast)
    app.router.add_get("/api/books", lambda _: _ok_aiohttp())
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


async def _ok_aiohttp() -> Any:
    from aiohttp import web

    return web.json_response({"objects": []})


def _raw_sanic(port: int) -> None:
    from sanic import Sanic
    from sanic.response import empty
    from sanic.response import json as json_response

    app: Any = Sanic("raw_fanout", configure_logging=False)
    sockets: set[Any] = set()

    @app.websocket("/ws")
    async def feed(request: Any, ws: Any) -> None:
        sockets.add(ws)
        try:
            async for _ in ws:
                pass
        finally:
            sockets.discard(ws)

    @app.post("/broadcast")
    async def broadcast(request: Any) -> Any:
        text = request.body.decode()
        for ws in list(sockets):
            await ws.send(text)
        return empty()

    @app.get("/api/books")
    async def ready(request: Any) -> Any:
        return json_response({"objects": []})

    app.run(host="127.0.0.1", port=port, single_process=True, access_log=False, motd=False)


# -- clients (one process: N sockets, and the writer) ----------------------------------------


async def _clients(kind: str, port: int, n: int, rounds: int) -> dict[str, Any]:
    import aiohttp

    tbone = kind.startswith("tbone-")
    base = f"http://127.0.0.1:{port}"
    url = f"ws://127.0.0.1:{port}" + ("/api/ws" if tbone else "/ws")
    latencies: list[list[float]] = [[] for _ in range(rounds)]
    state = {"round": 0, "t0": 0.0, "left": n}
    done = asyncio.Event()

    async def listen(ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            received = time.perf_counter()
            latencies[state["round"]].append(received - state["t0"])
            assert message.data.startswith('{"type":"event"'), message.data
            state["left"] -= 1
            if not state["left"]:
                done.set()

    connector = aiohttp.TCPConnector(limit=0)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        aiohttp.ClientSession() as http,
    ):
        sockets = await open_sockets(session, url, n, subscribe=tbone)
        readers = [asyncio.create_task(listen(ws)) for ws in sockets]
        target, body = (
            (base + "/api/books", json.dumps(BOOK)) if tbone else (base + "/broadcast", FRAME)
        )
        for index in range(rounds):
            await asyncio.sleep(0.05)
            done.clear()
            state.update({"round": index, "left": n, "t0": time.perf_counter()})
            async with http.post(
                target, data=body, headers={"Content-Type": "application/json"}
            ) as r:
                assert r.status in (201, 204), await r.text()
            await asyncio.wait_for(done.wait(), 60)
        for task in readers:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets))
    return {"latencies": latencies}


def clients(kind: str, port: int, n: int, rounds: int) -> None:
    _pin(1)
    print(json.dumps(asyncio.run(_clients(kind, port, n, rounds))))


# -- orchestration ---------------------------------------------------------------------------


def _pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {cpu})


def running(kind: str) -> contextlib.AbstractContextManager[tuple[int, int]]:
    """The bench server ``kind`` (this file's ``serve`` mode): ``(port, pid)``."""
    from bench.servers import serving  # not at the top: this file also runs as a script

    return serving([sys.executable, str(HERE), "serve", kind], kind, stop_wait=10)


def run_clients(kind: str, port: int, n: int, rounds: int) -> list[list[float]]:
    from bench.servers import client_latencies

    return client_latencies(HERE, kind, port, n, rounds, timeout=600)


def measure(
    sizes: tuple[int, ...] = (100, 1000), passes: int = 3
) -> dict[tuple[str, int], dict[str, float]]:
    """Every server at every size, in ``passes`` passes (fresh servers each), the best of
    them kept for each figure, as bench/http_bench.py does: on a shared machine a burst of
    load elsewhere then spoils one pass of a server, not its row."""
    results: dict[tuple[str, int], dict[str, float]] = {}
    for _ in range(passes):
        for n in sizes:
            for kind in SERVERS:
                row = _one_pass(kind, n)
                best = results.setdefault((kind, n), row)
                best["p50"] = min(best["p50"], row["p50"])
                best["p99"] = min(best["p99"], row["p99"])
                best["events/s"] = max(best["events/s"], row["events/s"])
    return results


def _one_pass(kind: str, n: int) -> dict[str, float]:
    rounds = 40 if n <= 100 else 15
    with running(kind) as (port, _pid):
        run_clients(kind, port, n, 3)  # warm up the server
        per_round = run_clients(kind, port, n, rounds)
    every = sorted(t for round_ in per_round for t in round_)
    return {
        "p50": statistics.median(every) * 1000,
        "p99": every[min(len(every) - 1, int(len(every) * 0.99))] * 1000,
        "events/s": statistics.median(n / max(round_) for round_ in per_round),
    }


def report(results: dict[tuple[str, int], dict[str, float]]) -> Section:
    lines = [
        "WebSocket fan-out: one write -> N subscribed sockets (clients in another process; "
        "best of 3 passes)",
        f"  {'server':14}{'N':>6}{'p50 ms':>10}{'p99 ms':>10}{'events/s':>12}"
        f"{'p50 vs raw':>12}{'p99 vs raw':>12}{'ev/s vs raw':>13}",
    ]
    # imported here: this file also runs as a script (servers, clients) without bench/ importable
    from bench.results import Section

    section = Section("")
    for (kind, n), row in results.items():
        raw = results[(kind.replace("tbone-", "raw-"), n)]
        section.add(f"ws/fan-out/{kind}/N={n}", **row)
        if kind.startswith("tbone-"):
            section.add(
                f"ws/fan-out/{kind}/N={n}",
                **{"p50 vs raw": row["p50"] / raw["p50"], "p99 vs raw": row["p99"] / raw["p99"]},
                **{"events/s vs raw": row["events/s"] / raw["events/s"]},
            )
        lines.append(
            f"  {kind:14}{n:6}{row['p50']:10.2f}{row['p99']:10.2f}{row['events/s']:12,.0f}"
            f"{row['p50'] / raw['p50']:11.2f}x{row['p99'] / raw['p99']:11.2f}x"
            f"{row['events/s'] / raw['events/s']:12.2f}x"
        )
    section.text = "\n".join(lines)
    return section


def bench_ws() -> Section:
    return report(measure())


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent.parent))
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "clients":
        clients(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        print(bench_ws().text)
