"""Instructions per HTTP request, TBone vs the hand-written handler, counted by callgrind.

``python bench/instructions.py [--requests N] [--adapter aiohttp|sanic ...] [--row NAME ...]``

On a shared machine two runs of the timed bench can differ by a third; the number of machine
instructions a server executes for one request does not. This runs each server of
``bench/http_apps.py`` under ``valgrind --tool=callgrind`` with counting off, warms it up,
counts ``N`` requests sent one after another on one keep-alive connection, and prints the
instructions per request and the ratio hand / TBone (higher is better, like the bench's).

It steers work on the HTTP rows of issue 11; it is not one of its figures. Instructions are not
time (a cache miss costs many), so the timed bench stays the measure. Needs ``valgrind``
(``apt-get install valgrind``); a run of every row takes about five minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.http_bench import REQUESTS  # noqa: E402  # the same requests as the timed bench
from bench.servers import free_port  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests counted per row")
    parser.add_argument("--adapter", action="append", choices=["aiohttp", "sanic"])
    parser.add_argument("--row", action="append", choices=list(REQUESTS))
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("bench/instructions.py needs valgrind (apt-get install valgrind)")
    print(f"instructions per request (callgrind, {args.requests} requests, one connection)")
    print(f"  {'row':18}  {'adapter':8}  {'hand':>9}  {'tbone':>9}  {'hand/tbone':>10}")
    for adapter in args.adapter or ["aiohttp", "sanic"]:
        for row in args.row or list(REQUESTS):
            hand = count(f"hand-{adapter}", row, args.requests)
            tbone = count(f"tbone-{adapter}", row, args.requests)
            print(f"  {row:18}  {adapter:8}  {hand:9,.0f}  {tbone:9,.0f}  {hand / tbone:9.2f}x")


def count(kind: str, row: str, requests: int) -> float:
    """Instructions per request of server ``kind`` answering ``row``'s request."""
    method, path, body = REQUESTS[row]
    data = b"" if body is None else json.dumps(body).encode()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            str(HERE / "http_apps.py"),
            kind,
            str(port),
        ]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_until_up(port, server)
            send(port, method, path, data, max(requests // 4, 50))  # warm-up, not counted
            _callgrind_control("--instr=on", server.pid)
            send(port, method, path, data, requests)
            _callgrind_control("--instr=off", server.pid)
            _callgrind_control("--dump", server.pid)
            dumped = sorted(Path(tmp).glob("callgrind.out.*"))
            if not dumped:
                raise RuntimeError(f"callgrind wrote no counts for {kind}")
            return _total(dumped[0]) / requests
        finally:
            server.terminate()
            server.wait(60)


def send(port: int, method: str, path: str, body: bytes, requests: int) -> None:
    """``requests`` requests one after another on one connection, each answered in full."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: bench\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    request = (head + "\r\n").encode() + body
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for _ in range(requests):
            sock.sendall(request)
            _read_response(sock)


def _read_response(sock: socket.socket) -> None:
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        buffer += _received(sock)
    head, _, rest = buffer.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 2"):
        raise RuntimeError(f"the server answered {head.splitlines()[0]!r}")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        rest += _received(sock)


def _received(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        raise RuntimeError("the server closed the connection")
    return chunk


def _wait_until_up(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180  # a Python start under valgrind takes a while
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/books?limit=1", timeout=5)
            return
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the server did not start under valgrind") from None
            time.sleep(0.5)


def _callgrind_control(option: str, pid: int) -> None:
    subprocess.run(
        ["callgrind_control", option, str(pid)],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "LC_ALL": "C"},
    )


def _total(dump: Path) -> int:
    for line in dump.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {dump}")


if __name__ == "__main__":
    main()
