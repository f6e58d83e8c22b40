"""The hostile HTTP corpus on every adapter x store: the right status, and nothing stored.

One server per (adapter, store) serves every case; each case is one test, named by its id, and
fails with every way it went wrong (status seen and expected, what was stored, what broke).
"""

from __future__ import annotations

import pytest

from . import beyond_corpus  # noqa: F401  (adds its cases to CASES)
from .cases import HttpCase, play
from .http_corpus import CASES
from .target import Target


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 300, len(CASES)
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_http(target: Target, case: HttpCase) -> None:
    problems = play(target, case)
    if problems:
        lines = "\n  ".join(problems)
        pytest.fail(
            f"{case.id} ({target.name}; {case.method} {case.path[:120]}):\n  {lines}", pytrace=False
        )
