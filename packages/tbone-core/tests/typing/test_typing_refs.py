"""``Ref`` and ``@action`` type-check as users write them (mypy --strict on refs_typed.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.mark.timeout(180)
def test_refs_and_actions_type_check_under_mypy_strict() -> None:
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental"]
    result = subprocess.run(
        [*command, str(HERE / "refs_typed.py")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
