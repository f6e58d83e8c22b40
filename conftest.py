"""Test-suite-wide settings: hypothesis gets a fresh seed on every run, in CI as well, and the
seed is printed in the header so that any failure can be replayed.

Hypothesis derandomizes by itself when ``CI`` is set; that hid generator bugs that a newcomer's
first run found. Replay a run with ``TBONE_HYPOTHESIS_SEED=<seed>`` (or ``--hypothesis-seed``).
"""

from __future__ import annotations

import os
import secrets

import pytest
from hypothesis import settings

settings.register_profile("tbone", derandomize=False, print_blob=True)
settings.load_profile("tbone")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("hypothesis_seed", None) is None:
        seed = os.environ.get("TBONE_HYPOTHESIS_SEED") or str(secrets.randbelow(2**32))
        config.option.hypothesis_seed = seed


def pytest_report_header(config: pytest.Config) -> str:
    seed = config.getoption("hypothesis_seed", None)
    return f"hypothesis seed: {seed} (replay with TBONE_HYPOTHESIS_SEED={seed})"
