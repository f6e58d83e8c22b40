"""TBone under uvicorn vs FastAPI + pydantic under the same uvicorn: detail, create and list.

Both servers come from bench/http_apps.py (``tbone-asgi``: the ``asgi`` transport's ``serve()``;
``fastapi``: FastAPI with pydantic v2 models and a dict as the store), each in its own process
on one core, with the same uvicorn, event loop (uvloop when installed) and HTTP parser; wrk
drives them from the other core. Each request is measured on both servers back to back, in
three rounds, and the best kept (see ``bench.http_bench.measure``).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.http_bench import measure, ratio_rows, throughput_table
from bench.results import Section, skipped

SERVERS = ["tbone-asgi", "fastapi"]


def report(results: dict[str, dict[str, float]]) -> Section:
    import uvicorn

    title = f"HTTP throughput under uvicorn {uvicorn.__version__} (requests/s, wrk -c16)"
    labels = {"tbone-asgi": "tbone (asgi)", "fastapi": "FastAPI+pydantic"}
    lines = throughput_table(title, results, labels)
    section = Section("")
    tbone, fast = results["tbone-asgi"], results["fastapi"]
    ratios = ratio_rows(section, "asgi/asgi vs fastapi", tbone, fast, "FastAPI")
    lines.append(f"  ratios tbone / FastAPI (same uvicorn): {ratios}")
    section.text = "\n".join(lines)
    return section


def bench_asgi() -> Section:
    if shutil.which("wrk") is None:
        return skipped(
            "HTTP throughput under uvicorn: skipped — wrk is not installed (apt-get install wrk)"
        )
    try:
        import fastapi  # noqa: F401  # the comparison needs it; so does uvicorn below
        import uvicorn  # noqa: F401
    except ImportError as exc:
        return skipped(f"HTTP throughput under uvicorn: skipped — {exc.name} is not installed")
    return report(measure(SERVERS))


if __name__ == "__main__":
    print(bench_asgi().text)
