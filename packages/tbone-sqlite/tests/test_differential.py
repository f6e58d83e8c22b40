"""The awkward-values differential test (tbone.testing.awkward) on the SQLite store.

On top of the shared cases: integers at SQLite's 64-bit extremes (stored), beyond them (asked
about in filters only: never stored), and a float at 2**64 that SQL compares against integers.
"""

from __future__ import annotations

from tbone.testing.awkward import AwkwardValues, Case
from tbone_sqlite import SQLiteStore

AWKWARD = AwkwardValues(
    stored_ints=[2**63 - 1, -(2**63)],
    filter_ints=[2**63, -(2**63) - 1, 2**64 + 1],
    floats=[1.8446744073709552e19],
    filter_floats=[2**64 + 1],
)


@AWKWARD.given(max_examples=300)
def test_same_answers_as_memory(case: Case) -> None:
    AWKWARD.check(SQLiteStore, case)
