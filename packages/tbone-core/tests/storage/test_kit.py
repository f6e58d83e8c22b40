"""The kit itself: opting out by name, and the summary of what was skipped."""

from __future__ import annotations

import pytest

from tbone.testing import StoreConformance, behaviours

pytest_plugins = ["pytester"]


def test_unknown_skip_names_are_refused() -> None:
    with pytest.raises(TypeError, match="skip names unknown behaviours: lookup_near"):
        type("TestBad", (StoreConformance,), {"skip": {"lookup_near": "typo"}})


def test_every_behaviour_is_named_once() -> None:
    names = [b.name for b in behaviours()]
    assert len(names) == len(set(names))
    assert {"lookup_exact", "cursor_pagination", "differential", "unique"} <= set(names)


def test_skips_are_listed_in_the_terminal_summary(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from tbone.storage import MemoryStore
        from tbone.testing import StoreConformance

        class TestSome(StoreConformance):
            skip = {"large_document": "no room", "differential": "slow",
                    "differential_untyped": "slow"}

            async def make_store(self, tmp_path):
                return MemoryStore()
        """
    )
    result = pytester.runpytest_subprocess("-q", "-k", "large or differential or insert_get")
    result.assert_outcomes(passed=1, skipped=3)
    result.stdout.fnmatch_lines(
        [
            "*tbone conformance kit: skipped behaviours*",
            "*TestSome: 3 skipped",
            "  - differential: slow",
            "  - differential_untyped: slow",
            "  - large_document: no room",
        ]
    )
