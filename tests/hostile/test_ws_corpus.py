"""The hostile WebSocket corpus on every adapter x store: the right reply, and nothing stored.

Each case opens its own socket on the (adapter, store) server the module shares; a failure
names the case id, the frame, the reply seen and the one expected.
"""

from __future__ import annotations

import pytest

from .target import Target
from .ws_corpus import CASES
from .wscases import WsCase, play_ws


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 100, len(CASES)
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_ws(target: Target, case: WsCase) -> None:
    problems = play_ws(target, case)
    if problems:
        lines = "\n  ".join(problems)
        pytest.fail(f"{case.id} ({target.name}):\n  {lines}", pytrace=False)
