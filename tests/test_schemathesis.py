"""schemathesis (a third-party OpenAPI fuzzer, pinned) against the demo API on both adapters.

The bookstore's API (examples/bookstore.py, seeded, on a temporary SQLite file) is served on a
loopback port by each adapter; schemathesis reads its ``/api/openapi.json`` and sends, for every
operation, a bounded number of generated requests: schema-valid ones and schema-violating ones.
Any 5xx, and any answer its own schema does not describe, fails the test, which lists every
operation that failed with the request schemathesis found (as a curl command).
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tbone import plugins
from tbone.testing.transport import LiveServer

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402 - after the skip
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

DEMO = Path(__file__).resolve().parents[1] / "examples" / "bookstore.py"
ADAPTERS = ("aiohttp", "sanic", "asgi")
#: generated requests per operation and mode: bounds the run (about 30 s per adapter here)
MAX_EXAMPLES = 30
CHECKS = [not_a_server_error, response_schema_conformance]

pytestmark = pytest.mark.skipif(
    "sqlite" not in {info.name for info in plugins.available("backend")},
    reason="the demo runs on tbone-sqlite, which is not installed",
)


def _demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tbone_demo_bookstore", DEMO)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def _fuzz(operation: Any, mode: GenerationMode, base_url: str) -> str | None:
    """Run one operation's examples; the failure schemathesis reports, or None."""

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests every run: a failure here is reproducible
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        case.call_and_validate(base_url=base_url, checks=CHECKS, timeout=30)

    try:
        run()
    except Unsatisfiable:  # nothing violates the schema (a DELETE whose only input is a string)
        return None
    except Exception as exc:  # schemathesis' failure groups, with the curl to reproduce
        return f"{operation.label} ({mode.value}): {exc}"
    return None


@pytest.mark.timeout(300)
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    adapter: str, tmp_path: Path
) -> None:
    demo = _demo()
    api = demo.build_api(tmp_path / "bookstore.db")
    with LiveServer(adapter, api) as server:
        asyncio.run(server.call(lambda: demo.seed(api)))
        schema = schemathesis.openapi.from_url(f"{server.url}{api.prefix}/openapi.json")
        failures = []
        operations = [result.ok() for result in schema.get_all_operations()]
        assert operations, "the demo's OpenAPI document has no operations"
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                failure = _fuzz(operation, mode, server.url)
                if failure is not None:
                    failures.append(failure)
    assert not failures, f"{len(failures)} of {2 * len(operations)} runs failed:\n\n" + (
        "\n\n".join(failures)
    )
