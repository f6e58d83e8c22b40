"""Acknowledged writes survive ``kill -9`` of the writing process.

A child process inserts and updates documents as fast as it can and prints each write once the
store has acknowledged it; the test kills it with SIGKILL mid-stream, reopens the file and checks
that every acknowledged write is there. (This is process death, with the OS still running; for
power loss see ``synchronous=FULL`` in docs/stores/sqlite.md.)
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tbone import Model
from tbone_sqlite import SQLiteStore

CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from tbone import Model
    from tbone_sqlite import SQLiteStore

    class Item(Model):
        n: int = 0

    async def main(path):
        async with SQLiteStore(path, synchronous=sys.argv[2]) as store:
            items = store.collection(Item, "items")
            last = None
            for i in range(1_000_000):
                if last is not None and i % 3 == 0:
                    updated = await items.update(last.id, {"n": i})
                    print("u", last.id, updated.n, flush=True)
                else:
                    last = await items.insert(Item(n=i))
                    print("i", last.id, last.n, flush=True)

    asyncio.run(main(sys.argv[1]))
    """
)


class Item(Model):
    n: int = 0


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("synchronous", ["NORMAL", "FULL"])
def test_acknowledged_writes_survive_sigkill(tmp_path: Path, synchronous: str) -> None:
    path = tmp_path / "durable.db"
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), synchronous],
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        acked: list[str] = []
        for line in child.stdout:
            acked.append(line)
            if len(acked) >= 400:
                os.kill(child.pid, signal.SIGKILL)  # mid-stream: writes are in flight
                break
        acked += child.stdout.read().splitlines(keepends=True)  # printed before it died
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    expected: dict[str, int] = {}
    for line in acked:
        if line.endswith("\n"):  # a line cut short by the kill was not fully acknowledged
            _, pk, n = line.split()
            expected[pk] = int(n)
    assert len(expected) > 200
    found = asyncio.run(_stored(path, list(expected)))
    missing = [pk for pk in expected if pk not in found]
    assert not missing, f"{len(missing)} acknowledged inserts lost"
    stale = {pk: (found[pk], n) for pk, n in expected.items() if found[pk] < n}
    assert not stale, f"acknowledged updates lost: {stale}"


async def _stored(path: Path, pks: list[str]) -> dict[str, int]:
    async with SQLiteStore(path) as store:
        items = store.collection(Item, "items")
        return {i.id: i.n for i in await items.find(id__in=pks)}
