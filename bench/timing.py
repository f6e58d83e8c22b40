"""Side-by-side timing: candidates interleaved in one process, best of several rounds."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any


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
