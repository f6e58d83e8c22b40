"""The public surface: a sorted ``__all__`` of what the package exports, importable lazily."""

from __future__ import annotations

import subprocess
import sys

import tbone_sqlite


def test_all_is_sorted_and_complete() -> None:
    assert tbone_sqlite.__all__ == sorted(tbone_sqlite.__all__)
    public = {n for n in vars(tbone_sqlite) if not n.startswith("_")}
    assert public == set(tbone_sqlite.__all__)


def test_import_does_not_load_the_driver() -> None:
    code = "import sys, tbone_sqlite; print('aiosqlite' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
