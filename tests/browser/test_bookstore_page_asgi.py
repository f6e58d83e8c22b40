"""The bookstore page in headless Chromium again, served by uvicorn: the API mounted in FastAPI
(examples/asgi_fastapi.py) instead of aiohttp. The page and tbone.js do not change."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ROOT, Demo, Page
from .test_bookstore_page import test_the_page_follows_changes_made_elsewhere as follows_changes


@pytest.fixture
def fastapi_bookstore(tmp_path: Path) -> Iterator[Demo]:
    missing = [m for m in ("fastapi", "uvicorn") if importlib.util.find_spec(m) is None]
    if missing:
        reason = f"NOT RUN (ASGI browser test): {', '.join(missing)} not installed"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    demo = Demo(tmp_path / "bookstore.db")
    script = ROOT / "examples" / "asgi_fastapi.py"
    demo.command = [
        sys.executable,
        str(script),
        "--port",
        str(demo.port),
        "--db",
        str(tmp_path / "bookstore.db"),
    ]
    demo.start()
    try:
        yield demo
    finally:
        demo.stop()


@pytest.mark.timeout(120)
async def test_the_page_follows_changes_under_uvicorn(page: Page, fastapi_bookstore: Demo) -> None:
    await follows_changes(page, fastapi_bookstore)
