"""TBone under uvicorn vs FastAPI + pydantic under the same uvicorn: detail, create and list.

Both servers come from bench/http_apps.py (``tbone-asgi``: the ``asgi`` transport's ``serve()``;
``fastapi``: FastAPI with pydantic v2 models and a dict as the store), run one at a time in
their own process on one core, with the same uvicorn, event loop (uvloop when installed) and
HTTP parser; wrk drives them from the other core. Each pair is measured in three rounds and the
best kept, alternating the servers so that neither gets the warmer machine.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.http_bench import REQUESTS, running, wrk

SERVERS = ["tbone-asgi", "fastapi"]


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
    import uvicorn

    lines = [f"HTTP throughput under uvicorn {uvicorn.__version__} (requests/s, wrk -c16)"]
    lines.append(f"  {'server':16}" + "".join(f"{name:>20}" for name in REQUESTS))
    labels = {"tbone-asgi": "tbone (asgi)", "fastapi": "FastAPI+pydantic"}
    for server, row in results.items():
        cells = "".join(f"{row[name]:20,.0f}" for name in REQUESTS)
        lines.append(f"  {labels[server]:16}{cells}")
    tbone, fast = results["tbone-asgi"], results["fastapi"]
    ratios = ", ".join(f"{name} {tbone[name] / fast[name]:.2f}x" for name in REQUESTS)
    lines.append(f"  ratios tbone / FastAPI (same uvicorn): {ratios}")
    return "\n".join(lines)


def bench_asgi() -> str:
    if shutil.which("wrk") is None:
        return "HTTP throughput under uvicorn: skipped — wrk is not installed (apt-get install wrk)"
    try:
        import fastapi  # noqa: F401  # the comparison needs it; so does uvicorn below
        import uvicorn  # noqa: F401
    except ImportError as exc:
        return f"HTTP throughput under uvicorn: skipped — {exc.name} is not installed"
    return report(measure())


if __name__ == "__main__":
    print(bench_asgi())
