"""The public surface: a sorted, complete ``__all__``; importing the package loads no driver."""

from __future__ import annotations

import subprocess
import sys

import tbone_mongo


def test_all_is_sorted_and_complete() -> None:
    assert tbone_mongo.__all__ == sorted(tbone_mongo.__all__)
    for name in tbone_mongo.__all__:
        assert getattr(tbone_mongo, name) is not None


def test_import_does_not_load_the_driver() -> None:
    code = "import sys, tbone_mongo; print('pymongo' in sys.modules, 'bson' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
