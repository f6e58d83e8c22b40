"""The targets of issue 11, read off one run's rows (bench/results.py): one entry per target.

Each entry is ``{"name", "value", "bound", "higher_is_better", "met", "row", "column"}``;
``value`` and ``met`` are ``None`` when the row was not measured in this run (its group did not
run, or was skipped here) or when no bench measures the target.
"""

from __future__ import annotations

from typing import Any

from bench.http_bench import FASTAPI_BOUND, REQUESTS
from bench.results import Rows

Target = dict[str, Any]

# (name, row key, column, bound, higher is better)
_Spec = tuple[str, str | None, str | None, float | None, bool]


def _http() -> list[_Spec]:
    specs: list[_Spec] = [
        (f"1. HTTP {request}, tbone-{adapter} vs hand-written {adapter}",
         f"http/{adapter} vs hand/{request}", "vs hand-written", 0.85, True)
        for adapter in ("aiohttp", "sanic")
        for request in REQUESTS
    ]  # fmt: skip
    for label, key in (("tbone-aiohttp", "http/aiohttp"), ("tbone-sanic", "http/sanic"),
                       ("tbone-asgi (same uvicorn)", "asgi/asgi")):  # fmt: skip
        for request in REQUESTS:
            bound = FASTAPI_BOUND.get(request, 1.5)
            specs.append(
                (f"1. HTTP {request}, {label} vs FastAPI + pydantic",
                 f"{key} vs fastapi/{request}", "vs FastAPI", bound, True)
            )  # fmt: skip
    return specs


def _ws() -> list[_Spec]:
    specs: list[_Spec] = []
    for adapter in ("aiohttp", "sanic"):
        row = f"ws/fan-out/tbone-{adapter}/N=1000"
        specs.append(
            (f"2. WS fan-out N=1,000 {adapter}: p99 vs raw", row, "p99 vs raw", 1.3, False)
        )
        specs.append(
            (f"2. WS fan-out N=1,000 {adapter}: events/s vs raw", row, "events/s vs raw", 0.9, True)
        )
    specs += [
        (f"2. WS N=5,000 idle sockets {adapter}: RSS per socket vs raw",
         f"ws/idle/tbone-{adapter}/N=5000", "vs raw", 1.5, False)
        for adapter in ("aiohttp", "sanic")
    ]  # fmt: skip
    specs.append(("3. memory channel: an event is not encoded/decoded/re-validated", None, None,
                  None, True))  # fmt: skip
    return specs


def _odm_and_stores() -> list[_Spec]:
    specs: list[_Spec] = [
        ("4. ODM round trip, 12-field book, vs pydantic v2", "odm/book/pydantic v2",
         "tbone vs it", 1.0, True),
        ("4. ODM round trip, 40-field wide model, vs pydantic v2", "odm/wide/pydantic v2",
         "tbone vs it", 1.0, True),
    ]  # fmt: skip
    specs += [
        (f"4. SQLite typed collection {op} vs raw aiosqlite", f"store/sqlite/{op}",
         "collection vs raw", 0.9, True)
        for op in ("insert", "get", "find (indexed, ~10 rows)", "update one field")
    ]  # fmt: skip
    specs += [
        (f"5a. Redis indexed find at 100,000 vs 1,000 docs, {way} (throughput ratio)",
         f"redis/flat/{way}", "large/small", 0.5, True)
        for way in ("store.find_docs(year=Y)", "collection.find(year=Y)")
    ]  # fmt: skip
    specs += [
        (f"5b. {store} {paging}: page 500 time / page 1 time",
         f"pagination/{store}/{paging}", "deep/first", 1.5, False)
        for store in ("sqlite", "mongodb")
        for paging in ("cursor, by id", "cursor, by year", "cursor, by -id", "cursor, by -year")
    ]  # fmt: skip
    return specs


def _other() -> list[_Spec]:
    return [
        ("6. orjson fast path: encode speed-up on a 20-item list page",
         "json/encode/list page, 20 x 12 fields", "speed-up", 1.0, True),
        ("6. orjson fast path: encode speed-up on a detail body",
         "json/encode/detail, 12 fields", "speed-up", 1.0, True),
        ("issue 10: dispatch, 10,000 non-matching subscriptions vs 10",
         "dispatch/10,000 subscriptions, 1 concerned", "vs 10", 2.0, False),
    ] + [
        (f"issue 12: SSE fan-out N=1,000 on {server}: p99 vs WebSocket",
         f"sse/fan-out/{server}/sse/N=1000", "p99 vs ws", 2.0, False)
        for server in ("uvicorn", "aiohttp")
    ]  # fmt: skip


def targets(rows: Rows) -> list[Target]:
    """Every target with its value in ``rows`` and whether it is met."""
    out = []
    for name, row, column, bound, higher in [*_http(), *_ws(), *_odm_and_stores(), *_other()]:
        value = None if row is None or column is None else rows.get(row, {}).get(column)
        met = None
        if value is not None and bound is not None:
            met = value >= bound if higher else value <= bound
        out.append(
            {"name": name, "value": value, "bound": bound, "higher_is_better": higher,
             "met": met, "row": row, "column": column}
        )  # fmt: skip
    return out


def summary(rows: Rows) -> str:
    """The measured targets, one line each, for the end of the printed run."""
    lines = ["Targets of issue 11 (measured in this run)"]
    for t in targets(rows):
        if t["value"] is None:
            continue
        sign = ">=" if t["higher_is_better"] else "<="
        verdict = "met" if t["met"] else "MISSED"
        lines.append(f"  {verdict:6} {t['value']:7.2f} {sign} {t['bound']:<5} {t['name']}")
    return "\n".join(lines)
