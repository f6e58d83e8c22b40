"""pytest plugin (entry point ``pytest11: tbone``): reports what the conformance kit skipped.

Deliberately import-light: it imports nothing from tbone until a kit test has run.
"""

from __future__ import annotations

from typing import Any

import pytest

SKIP_PREFIX = "[tbone kit] "


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = _kit_skips(terminalreporter.stats.get("skipped", []))
    if not skipped:
        return
    terminalreporter.section("tbone conformance kit: skipped behaviours")
    for owner, lines in sorted(skipped.items()):
        terminalreporter.write_line(f"{owner}: {len(lines)} skipped")
        for line in sorted(lines):
            terminalreporter.write_line(f"  - {line}")


def _kit_skips(reports: list[pytest.TestReport]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for report in reports:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        _, _, text = reason.partition(SKIP_PREFIX)
        if text:
            owner = "::".join(report.nodeid.split("::")[:-1])
            found.setdefault(owner, []).append(text)
    return found
