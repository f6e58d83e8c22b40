"""Event fan-out over the SSE + POST fallback vs over WebSocket, on the same TBone server.

``python bench/sse.py [N ...]`` prints the table (N = 1000 by default); :func:`main` returns it
as a :class:`bench.results.Section` for ``bench/run.py``.

The server (a TBone API on the memory store, under uvicorn and under aiohttp) runs in its own
process, pinned to one core where the OS allows; the N clients run in another process (the
other core) and also make the writes, so that send and receipt times come from one clock. For
each server the WebSocket clients and then the SSE clients are measured against the same
running process. One round = one POST of a book; latency is from just before that request to
each client's receipt of the event. Target (issue 12): SSE p99 within 2x of WebSocket.
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
    from bench.results import Section

HERE = Path(__file__).resolve()
SERVERS = ["uvicorn", "aiohttp"]
BOOK = {"title": "Dune", "author": "Herbert", "year": 1965, "tags": ["scifi"]}
SUBSCRIBE = {"type": "subscribe", "id": 1, "resource": "books"}
TARGET = 2.0  # SSE p99 / WebSocket p99, at most


# -- the server (its own process) --------------------------------------------------------------


def serve(kind: str, port: int) -> None:
    _pin(0)
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
    if kind == "uvicorn":
        from tbone_asgi import AsgiTransport

        AsgiTransport(server="uvicorn").serve(api, port=port)
    else:
        plugins.load("transport", kind)().serve(api, port=port)


# -- clients (one process: N subscribers, and the writer) --------------------------------------


async def _ws_subscriber(session: Any, base: str) -> Any:
    ws = await session.ws_connect(base.replace("http", "ws") + "/api/ws", protocols=("tbone.v1",))
    await ws.send_str(json.dumps(SUBSCRIBE))
    assert (await ws.receive_json())["type"] == "subscribed"

    async def frames() -> Any:
        async for message in ws:
            yield message.data

    return ws.close, frames()


async def _sse_subscriber(session: Any, http: Any, base: str) -> Any:
    response = await session.get(base + "/api/_stream")
    assert response.status == 200, response.status
    lines = response.content

    async def frames() -> Any:
        async for line in lines:
            if line.startswith(b"data: "):
                yield line[6:].decode()

    stream = frames()
    first = json.loads(await anext(stream))
    headers = {"TBone-Stream-Token": first["token"]}
    async with http.post(base + first["path"], json=SUBSCRIBE, headers=headers) as answer:
        assert answer.status == 202, await answer.text()
    assert json.loads(await anext(stream))["type"] == "subscribed"

    async def close() -> None:  # as tbone.js does: end the session, not only the stream
        async with http.delete(base + first["path"], headers=headers):
            response.close()

    return close, stream


async def _clients(transport: str, port: int, n: int, rounds: int) -> dict[str, Any]:
    import aiohttp

    base = f"http://127.0.0.1:{port}"
    latencies: list[list[float]] = [[] for _ in range(rounds)]
    state = {"round": 0, "t0": 0.0, "left": n}
    done = asyncio.Event()

    async def listen(frames: Any) -> None:
        async for text in frames:
            latencies[state["round"]].append(time.perf_counter() - state["t0"])
            assert text.startswith('{"type":"event"'), text
            state["left"] -= 1
            if not state["left"]:
                done.set()

    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http,
    ):
        subscribers = []
        for start in range(0, n, 50):  # in batches: a listen backlog of 100 drops bursts
            count = min(50, n - start)
            if transport == "websocket":
                batch = [_ws_subscriber(session, base) for _ in range(count)]
            else:
                batch = [_sse_subscriber(session, http, base) for _ in range(count)]
            subscribers += await asyncio.gather(*batch)
        readers = [asyncio.create_task(listen(frames)) for _, frames in subscribers]
        for index in range(rounds):
            await asyncio.sleep(0.05)
            done.clear()
            state.update({"round": index, "left": n, "t0": time.perf_counter()})
            async with http.post(base + "/api/books", json=BOOK) as r:
                assert r.status == 201, await r.text()
            await asyncio.wait_for(done.wait(), 60)
        for task in readers:
            task.cancel()
        await asyncio.gather(*(close() for close, _ in subscribers))
    return {"latencies": latencies}


def clients(transport: str, port: int, n: int, rounds: int) -> None:
    _pin(1)
    print(json.dumps(asyncio.run(_clients(transport, port, n, rounds))))


# -- orchestration -----------------------------------------------------------------------------


def _pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {cpu})


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) the process used so far, where /proc tells it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def running(kind: str) -> contextlib.AbstractContextManager[tuple[int, int]]:
    """The bench server ``kind`` (this file's ``serve`` mode): ``(port, pid)``."""
    from bench.servers import serving  # not at the top: this file also runs as a script

    return serving([sys.executable, str(HERE), "serve", kind], kind)


def run_clients(transport: str, port: int, n: int, rounds: int) -> list[list[float]]:
    from bench.servers import client_latencies

    return client_latencies(HERE, transport, port, n, rounds)


def _figures(per_round: list[list[float]], n: int, cpu: float | None) -> dict[str, float]:
    every = sorted(t for round_ in per_round for t in round_)
    figures = {
        "p50": statistics.median(every) * 1000,
        "p99": every[min(len(every) - 1, int(len(every) * 0.99))] * 1000,
        "events/s": statistics.median(n / max(round_) for round_ in per_round),
    }
    if cpu is not None:  # the server's CPU per delivered event: steady on a busy machine
        figures["cpu us/event"] = cpu / len(every) * 1e6
    return figures


def measure(sizes: tuple[int, ...] = (1000,)) -> dict[tuple[str, str, int], dict[str, float]]:
    results = {}
    for n in sizes:
        rounds = 40 if n <= 100 else 15
        for kind in SERVERS:
            with running(kind) as (port, pid):
                for transport in ("websocket", "sse"):
                    run_clients(transport, port, n, 3)  # warm up
                    before = _cpu_seconds(pid)
                    per_round = run_clients(transport, port, n, rounds)
                    after = _cpu_seconds(pid)
                    cpu = after - before if after is not None and before is not None else None
                    results[(kind, transport, n)] = _figures(per_round, n, cpu)
    return results


def report(results: dict[tuple[str, str, int], dict[str, float]]) -> Section:
    # imported here: this file also runs as a script (servers, clients) without bench/ importable
    from bench.results import Section

    lines = [
        "Fan-out over the SSE + POST fallback vs WebSocket: one write -> N subscribers, same "
        f"server (target: SSE p99 <= {TARGET:g}x WebSocket)",
        f"  {'server':10}{'transport':>11}{'N':>6}{'p50 ms':>10}{'p99 ms':>10}{'events/s':>12}"
        f"{'p99 vs ws':>11}{'ev/s vs ws':>12}{'cpu us/ev':>11}{'cpu vs ws':>11}",
    ]
    section = Section("")
    for (kind, transport, n), row in results.items():
        ws = results[(kind, "websocket", n)]
        key = f"sse/fan-out/{kind}/{transport}/N={n}"
        section.add(key, **row)
        p99_ratio, rate_ratio = row["p99"] / ws["p99"], row["events/s"] / ws["events/s"]
        if transport == "sse":
            met = 1.0 if p99_ratio <= TARGET else 0.0
            section.add(key, **{"p99 vs ws": p99_ratio, "events/s vs ws": rate_ratio, "met": met})
        verdict = "" if transport != "sse" else ("  met" if p99_ratio <= TARGET else "  MISSED")
        cpu, ws_cpu = row.get("cpu us/event"), ws.get("cpu us/event")
        cpu_text = f"{cpu:11.1f}{cpu / ws_cpu:10.2f}x" if cpu and ws_cpu else ""
        lines.append(
            f"  {kind:10}{transport:>11}{n:6}{row['p50']:10.2f}{row['p99']:10.2f}"
            f"{row['events/s']:12,.0f}{p99_ratio:10.2f}x{rate_ratio:11.2f}x{cpu_text}{verdict}"
        )
    section.text = "\n".join(lines)
    return section


def main(sizes: tuple[int, ...] = (1000,)) -> Section:
    """Measure and return the table (``bench/run.py`` may call this)."""
    return report(measure(sizes))


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent.parent))
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "clients":
        clients(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        print(main(tuple(int(a) for a in sys.argv[1:]) or (1000,)).text)
