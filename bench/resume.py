"""Resume storm: 1,000 WebSocket clients reconnect at once with ``after`` (issue 10, bad input).

One ``tbone serve`` process (aiohttp, memory store, the given channel) in a subprocess, so its
memory is its own. 1,000 clients subscribe and note their position, all drop, ``--writes``
books are created, then all 1,000 reconnect at the same moment with ``"after"``; each must get
every missed event. Reported: the time until every client has all of them, and the server's
resident memory (VmRSS before the storm, VmHWM: its peak). A second storm resumes from
positions the history does not cover: every client is answered ``resync`` (bounded work).

    python -m bench.resume                       # 1,000 clients, 100 missed events, memory://
    python -m bench.resume --clients 200 --writes 50 --channel sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

MODULE = """
import os

from tbone import API, Model, Resource


class Book(Model):
    title: str
    year: int = 0


class BookResource(Resource[Book]):
    model = Book
    name = "books"


def make_api() -> API:
    api = API(prefix="/api", channel=os.environ["BENCH_CHANNEL"])
    api.register(BookResource)
    return api
"""

SUBSCRIBE = {"type": "subscribe", "id": 1, "resource": "books"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of the process, in KiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


class Server:
    def __init__(self, folder: Path, channel: str) -> None:
        module = folder / "bench_api.py"
        module.write_text(textwrap.dedent(MODULE))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/api/ws"
        code = "import sys; from tbone.cli import main; sys.exit(main())"
        args = ["serve", f"{module}:make_api", "--server", "aiohttp", "--port", str(self.port)]
        env = {**os.environ, "BENCH_CHANNEL": channel}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/api/books").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the server did not come up")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


async def _subscribe_all(server: Server, clients: int) -> list[str]:
    """Every client subscribes, notes the answer's position, and drops."""

    async def one() -> str:
        async with connect(server.ws_url, max_queue=None) as ws:
            await ws.send(json.dumps(SUBSCRIBE))
            answer = json.loads(await ws.recv())
            seq: str = answer["seq"]
            return seq

    return list(await asyncio.gather(*(one() for _ in range(clients))))


async def _resume(server: Server, after: str, missed: int) -> dict[str, Any]:
    async with connect(server.ws_url, max_queue=None, open_timeout=120) as ws:
        await ws.send(json.dumps({**SUBSCRIBE, "after": after}))
        answer = json.loads(await ws.recv())
        if answer.get("resync"):
            return {"resync": True, "events": 0}
        for _ in range(missed):
            frame = json.loads(await asyncio.wait_for(ws.recv(), 120))
            assert frame["type"] == "event", frame
        return {"resync": False, "events": missed}


async def _storm(server: Server, positions: list[str], missed: int) -> tuple[float, list[Any]]:
    start = time.perf_counter()
    results = await asyncio.gather(*(_resume(server, seq, missed) for seq in positions))
    return time.perf_counter() - start, results


async def _write(server: Server, count: int) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        for i in range(count):
            made = await http.post("/api/books", json={"title": f"b{i}", "year": i})
            assert made.status_code == 201, made.text


async def run(clients: int, writes: int, channel: str, folder: Path) -> None:
    url = f"sqlite:///{folder / 'events.db'}" if channel == "sqlite" else "memory://"
    server = Server(folder, url)
    try:
        server.wait_ready()
        began = time.perf_counter()
        positions = await _subscribe_all(server, clients)
        print(f"{clients} clients subscribed and dropped in {time.perf_counter() - began:.2f} s")
        await _write(server, writes)
        before = _memory(server.proc.pid)
        took, results = await _storm(server, positions, writes)
        after = _memory(server.proc.pid)
        assert not any(r["resync"] for r in results), "the history covered the gap"
        assert sum(r["events"] for r in results) == clients * writes
        print(
            f"resume storm ({channel}): {clients} clients x {writes} missed events, all "
            f"resumed in {took:.2f} s; server RSS {before['VmRSS'] / 1024:.1f} MiB before, "
            f"peak {after['VmHWM'] / 1024:.1f} MiB"
        )
        foreign = ["0123456789abcdef.1"] * clients
        took, results = await _storm(server, foreign, writes)
        assert all(r["resync"] for r in results)
        print(f"resync storm: {clients} clients answered resync in {took:.2f} s")
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--writes", type=int, default=100, help="events missed by each client")
    parser.add_argument("--channel", choices=["memory", "sqlite"], default="memory")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tbone-resume-") as folder:
        asyncio.run(run(args.clients, args.writes, args.channel, Path(folder)))


if __name__ == "__main__":
    main()
