"""The bookstore page in headless Chromium with WebSockets taken away: tbone.js falls back by
itself to Server-Sent Events + POST, and the page follows changes made elsewhere as before.

``window.WebSocket`` is deleted before any script of the page runs (as if the browser had
none); a second test keeps it but makes every upgrade fail, as a proxy that blocks them does.
The page itself is not changed.
"""

from __future__ import annotations

import pytest

from .conftest import Demo, Page
from .test_bookstore_page import test_the_page_follows_changes_made_elsewhere as follows_changes

NO_WEBSOCKET = "delete window.WebSocket;"
# A WebSocket whose upgrade always fails, the way one behind a blocking proxy does.
BLOCKED_WEBSOCKET = """
window.WebSocket = class {
  constructor() {
    window.blockedUpgrades = (window.blockedUpgrades || 0) + 1;
    this.readyState = 0;
    setTimeout(() => { this.readyState = 3; this.onerror && this.onerror({});
                       this.onclose && this.onclose({ code: 1006, reason: "" }); }, 10);
  }
  send() {}
  close() {}
};
"""


async def _without(page: Page, script: str) -> None:
    await page.send("Page.addScriptToEvaluateOnNewDocument", source=script)


@pytest.mark.timeout(120)
async def test_the_page_follows_changes_without_websocket(page: Page, bookstore: Demo) -> None:
    await _without(page, NO_WEBSOCKET)
    await follows_changes(page, bookstore)
    assert await page.evaluate("typeof WebSocket") == "undefined"
    assert await page.evaluate("window.bookstore.client.transport") == "sse"


@pytest.mark.timeout(120)
async def test_the_page_falls_back_when_upgrades_fail(page: Page, bookstore: Demo) -> None:
    await _without(page, BLOCKED_WEBSOCKET)
    await follows_changes(page, bookstore)
    assert await page.evaluate("window.bookstore.client.transport") == "sse"
    assert await page.evaluate("window.blockedUpgrades") == 1
