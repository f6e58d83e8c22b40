"""HTTP throughput of each server (bench/http_apps.py), measured with wrk, side by side.

Servers run in their own processes, all at once on one core; wrk drives them from the other.
Each request is measured on every server back to back, in three rounds (fresh servers each
round), and the best kept. :func:`measure` and
:func:`running` are shared with bench/http_asgi.py (the same servers under uvicorn).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bench.results import Section, skipped
from bench.servers import serving

HERE = Path(__file__).resolve().parent
SERVERS = ["tbone-aiohttp", "hand-aiohttp", "tbone-sanic", "hand-sanic", "fastapi"]
REQUESTS = {
    "list (20 of 100)": ("GET", "/api/books?limit=20", None),
    "filtered list": ("GET", "/api/books?author=Author%203&limit=20", None),  # 14 of 100, indexed
    "detail": ("GET", f"/api/books/{0:032x}", None),
    "create": (
        "POST",
        "/api/books",
        {"title": "Dune", "author": "Herbert", "year": 1965, "tags": ["scifi"]},
    ),
    "update": ("PATCH", f"/api/books/{1:032x}", {"year": 1966, "tags": ["x", "y"]}),
}
# the targets of issue 11 vs FastAPI + pydantic: list rows >= 1.0x, the others >= 1.5x
FASTAPI_BOUND = {"list (20 of 100)": 1.0, "filtered list": 1.0}


@contextlib.contextmanager
def running(kind: str) -> Iterator[str]:
    """The server ``kind`` of http_apps.py, pinned to CPU 0; yields its base URL."""
    command = [*_pin(0), sys.executable, str(HERE / "http_apps.py"), kind]
    with serving(command, kind, probe="/api/books?limit=1", stop_wait=10) as (port, _):
        yield f"http://127.0.0.1:{port}"


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


def measure(
    servers: list[str], seconds: float = 3.0, rounds: int = 3
) -> dict[str, dict[str, float]]:
    """Requests/s of every request on every server: the best of ``rounds``.

    Each round starts every server afresh (the same seeded store: creates of one round do not
    grow the next round's lists), all at once, each idle while another is measured; each
    request is measured on all of them back to back before the next request. On a shared
    machine a burst of load elsewhere then lands on every server's cell alike, not on one."""
    results: dict[str, dict[str, float]] = {s: dict.fromkeys(REQUESTS, 0.0) for s in servers}
    for _ in range(rounds):
        with contextlib.ExitStack() as stack:
            bases = {server: stack.enter_context(running(server)) for server in servers}
            for name, (method, path, body) in REQUESTS.items():
                for server, base in bases.items():
                    wrk(base + path, method, body, 1)  # warm up
                    rps = wrk(base + path, method, body, seconds)
                    results[server][name] = max(results[server][name], rps)
    return results


def throughput_table(
    title: str, results: dict[str, dict[str, float]], labels: dict[str, str] | None = None
) -> list[str]:
    """One line per server, one column per request."""
    labels = labels or {}
    lines = [title, f"  {'server':16}" + "".join(f"{name:>18}" for name in REQUESTS)]
    for server, row in results.items():
        cells = "".join(f"{row[name]:18,.0f}" for name in REQUESTS)
        lines.append(f"  {labels.get(server, server):16}{cells}")
    return lines


def ratio_rows(
    section: Section, key: str, tbone: dict[str, float], other: dict[str, float], vs: str
) -> str:
    """Record ``tbone / other`` for every request as rows ``key/<request>``; the printed line."""
    for name in REQUESTS:
        section.add(f"{key}/{name}", **{"tbone req/s": tbone[name], f"{vs} req/s": other[name]})
        section.add(f"{key}/{name}", **{f"vs {vs}": tbone[name] / other[name]})
    return ", ".join(f"{name} {tbone[name] / other[name]:.2f}x" for name in REQUESTS)


def report(results: dict[str, dict[str, float]]) -> Section:
    section = Section("")
    lines = throughput_table("HTTP throughput (requests/s, wrk -c16, one server process)", results)
    lines.append("  ratios:")
    for adapter in ("aiohttp", "sanic"):
        tb, hand = results[f"tbone-{adapter}"], results[f"hand-{adapter}"]
        parts = ratio_rows(section, f"http/{adapter} vs hand", tb, hand, "hand-written")
        lines.append(f"    tbone-{adapter} / hand-written {adapter}: {parts}")
        fast = results["fastapi"]
        parts = ratio_rows(section, f"http/{adapter} vs fastapi", tb, fast, "FastAPI")
        lines.append(f"    tbone-{adapter} / FastAPI+pydantic (uvicorn): {parts}")
    section.text = "\n".join(lines)
    return section


def bench_http() -> Section:
    if shutil.which("wrk") is None:
        return skipped("HTTP throughput: skipped — wrk is not installed (apt-get install wrk)")
    return report(measure(SERVERS))


if __name__ == "__main__":  # python -m bench.http_bench
    print(bench_http().text)
