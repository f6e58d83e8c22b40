"""Memory per idle WebSocket: N = 5,000 sockets held open on one server process (issue 11).

The servers of bench/ws_fanout.py, one at a time (TBone on aiohttp and Sanic, each next to its
raw broadcast server). A client process opens ``N`` sockets (on TBone each one also subscribes
to ``books``, as a live client would) and holds them idle; the server's resident memory (RSS,
from /proc) is read before and after, and the growth divided by ``N``. Linux only.

``python -m bench.ws_memory`` prints the table; :func:`bench_ws_memory` is what run.py calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from pathlib import Path

from bench.results import Section, skipped
from bench.servers import serving

HERE = Path(__file__).resolve()
FANOUT = HERE.parent / "ws_fanout.py"
SERVERS = ["tbone-aiohttp", "raw-aiohttp", "tbone-sanic", "raw-sanic"]
N = 5_000


def _rss(pid: int) -> int:
    """Resident memory of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _server(kind: str) -> contextlib.AbstractContextManager[tuple[int, int]]:
    return serving([sys.executable, str(FANOUT), "serve", kind], kind, stop_wait=10)


async def _hold(kind: str, port: int, n: int) -> None:
    """Open ``n`` sockets, say ``ready``, and hold them until standard input closes."""
    import aiohttp

    from bench.ws_fanout import open_sockets

    tbone = kind.startswith("tbone-")
    url = f"ws://127.0.0.1:{port}" + ("/api/ws" if tbone else "/ws")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        sockets = await open_sockets(session, url, n, subscribe=tbone)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await asyncio.gather(*(ws.close() for ws in sockets))


def per_socket(kind: str, n: int = N) -> float:
    """Bytes of server RSS per idle socket."""
    with _server(kind) as (port, pid):
        time.sleep(0.5)
        before = _rss(pid)
        client = subprocess.Popen(
            [sys.executable, "-m", "bench.ws_memory", "hold", kind, str(port), str(n)],
            cwd=HERE.parent.parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert client.stdin is not None
        assert client.stdout is not None
        try:
            if client.stdout.readline().strip() != "ready":
                raise RuntimeError(f"the {n} clients of {kind} did not connect")
            time.sleep(1.0)
            after = _rss(pid)
        finally:
            client.stdin.close()
            client.wait(120)
    return (after - before) / n


def bench_ws_memory() -> Section:
    if not Path("/proc/self/status").exists():
        return skipped("WebSocket memory per idle socket: skipped — needs /proc (Linux)")
    sizes = {kind: per_socket(kind) for kind in SERVERS}
    section = Section("")
    lines = [
        f"WebSocket memory per idle socket: server RSS growth / {N:,} sockets held open",
        f"  {'server':14}{'KiB/socket':>12}{'vs raw':>9}",
    ]
    for kind, size in sizes.items():
        ratio = size / sizes[kind.replace("tbone-", "raw-")]
        lines.append(f"  {kind:14}{size / 1024:12.1f}{ratio:8.2f}x")
        section.add(f"ws/idle/{kind}/N={N}", **{"KiB per socket": size / 1024, "vs raw": ratio})
    section.text = "\n".join(lines)
    return section


if __name__ == "__main__":  # python -m bench.ws_memory [hold KIND PORT N]
    if len(sys.argv) > 1 and sys.argv[1] == "hold":
        asyncio.run(_hold(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
    else:
        print(bench_ws_memory().text)
