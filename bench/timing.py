"""Side-by-side timing: candidates interleaved in one process, best of several rounds."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from bench.results import Section


def ops_per_second(
    cases: Mapping[str, Callable[[], Any]], *, rounds: int = 7, min_time: float = 0.2
) -> dict[str, float]:
    """Best throughput of each case; rounds alternate between cases so noise hits all alike."""
    loops = {name: _calibrate(fn, min_time) for name, fn in cases.items()}
    best = dict.fromkeys(cases, 0.0)
    for _ in range(rounds):
        for name, fn in cases.items():
            n = loops[name]
            start = time.perf_counter()
            for _ in range(n):
                fn()
            elapsed = time.perf_counter() - start
            best[name] = max(best[name], n / elapsed)
    return best


def _calibrate(fn: Callable[[], Any], min_time: float) -> int:
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - start >= min_time / 4:
            return max(n, 1) * 4
        n *= 2


def table(title: str, results: Mapping[str, float], baseline: str, unit: str = "ops/s") -> str:
    """A table of throughputs with each one's ratio to the baseline (higher is faster)."""
    base = results[baseline]
    width = max(len(name) for name in results)
    lines = [title, f"  {'':{width}}  {unit:>12}  {'vs ' + baseline:>20}"]
    for name, value in results.items():
        lines.append(f"  {name:{width}}  {value:12,.0f}  {value / base:19.2f}x")
    return "\n".join(lines)


BATCH = 50  # store operations per timed call, so the event loop hop is amortised alike for all


def batched(
    loop: asyncio.AbstractEventLoop, op: Callable[[int], Coroutine[Any, Any, Any]], rows: int
) -> Callable[[], None]:
    """A timed call running ``BATCH`` store operations on row numbers 0..rows-1 in turn."""
    counter = itertools.count()

    async def batch() -> None:
        for _ in range(BATCH):
            await op(next(counter) % rows)

    return lambda: loop.run_until_complete(batch())


def three_way(
    loop: asyncio.AbstractEventLoop,
    title: str,
    cases: Mapping[str, Mapping[str, Callable[[int], Coroutine[Any, Any, Any]]]],
    rows: int,
    rounds: int = 5,
    *,
    key: str,
) -> Section:
    """The store bench table: each operation done raw, through the store, and through the
    typed collection, side by side in one run, with ratios to raw; rows ``key/<operation>``."""
    section = Section("")
    lines = [
        title,
        f"  {'operation':26}  {'raw':>9}  {'store':>9}  {'ratio':>6}  "
        f"{'collection':>10}  {'ratio':>6}",
    ]
    for name, ways in cases.items():
        fns = {way: batched(loop, op, rows) for way, op in ways.items()}
        r = {way: n * BATCH for way, n in ops_per_second(fns, rounds=rounds).items()}
        lines.append(
            f"  {name:26}  {r['raw']:9,.0f}  {r['store']:9,.0f}  "
            f"{r['store'] / r['raw']:5.2f}x  {r['collection']:10,.0f}  "
            f"{r['collection'] / r['raw']:5.2f}x"
        )
        section.add(
            f"{key}/{name}",
            **{f"{way} ops/s": value for way, value in r.items()},
            **{"store vs raw": r["store"] / r["raw"]},
            **{"collection vs raw": r["collection"] / r["raw"]},
        )
    section.text = "\n".join(lines)
    return section
