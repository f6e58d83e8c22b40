"""HTTP throughput of each server (bench/http_apps.py), measured with wrk, side by side.

Servers run one at a time in their own process on one core; wrk drives them from the other.
Each (server, request) pair is measured in three rounds and the best kept.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVERS = ["tbone-aiohttp", "hand-aiohttp", "tbone-sanic", "hand-sanic", "fastapi"]
REQUESTS = {
    "list (20 of 100)": ("GET", "/api/books?limit=20", None),
    "detail": ("GET", f"/api/books/{0:032x}", None),
    "create": (
        "POST",
        "/api/books",
        {"title": "Dune", "author": "Herbert", "year": 1965, "tags": ["scifi"]},
    ),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running(kind: str) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [*_pin(0), sys.executable, str(HERE / "http_apps.py"), kind, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/books?limit=1", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"{kind} did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _pin(cpu: int) -> list[str]:
    """Server on one core, wrk on the other: they no longer steal each other's time slices."""
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        return []
    return ["taskset", "-c", str(cpu)]


def wrk(url: str, method: str, body: object, seconds: float) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.method = "{method}"\n')
        if body is not None:
            script.write(f"wrk.body = {json.dumps(json.dumps(body))}\n")
            script.write('wrk.headers["Content-Type"] = "application/json"\n')
    out = subprocess.run(
        [*_pin(1), "wrk", "-t1", "-c16", f"-d{max(1, round(seconds))}s", "-s", script.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    Path(script.name).unlink()
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None or "Non-2xx" in out:
        raise RuntimeError(f"wrk failed or got errors:\n{out}")
    return float(match.group(1))


def measure(seconds: float = 3.0, rounds: int = 3) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {s: dict.fromkeys(REQUESTS, 0.0) for s in SERVERS}
    for _ in range(rounds):
        for server in SERVERS:
            with running(server) as base:
                for name, (method, path, body) in REQUESTS.items():
                    wrk(base + path, method, body, 1)  # warm up
                    rps = wrk(base + path, method, body, seconds)
                    results[server][name] = max(results[server][name], rps)
    return results


def report(results: dict[str, dict[str, float]]) -> str:
    lines = ["HTTP throughput (requests/s, wrk -c16, one server process)"]
    header = f"  {'server':16}" + "".join(f"{name:>20}" for name in REQUESTS)
    lines.append(header)
    for server, row in results.items():
        lines.append(f"  {server:16}" + "".join(f"{row[name]:20,.0f}" for name in REQUESTS))
    lines.append("  ratios:")
    for adapter in ("aiohttp", "sanic"):
        tb, hand = results[f"tbone-{adapter}"], results[f"hand-{adapter}"]
        parts = ", ".join(f"{name} {tb[name] / hand[name]:.2f}x" for name in REQUESTS)
        lines.append(f"    tbone-{adapter} / hand-written {adapter}: {parts}")
        fast = results["fastapi"]
        parts = ", ".join(f"{name} {tb[name] / fast[name]:.2f}x" for name in REQUESTS)
        lines.append(f"    tbone-{adapter} / FastAPI+pydantic (uvicorn): {parts}")
    return "\n".join(lines)


def bench_http() -> str:
    if shutil.which("wrk") is None:
        return "HTTP throughput: skipped — wrk is not installed (apt-get install wrk)"
    return report(measure())


if __name__ == "__main__":
    print(bench_http())
