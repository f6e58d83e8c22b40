"""The bookstore page stays true while another process writes and the server restarts.

The demo's channel is ``sqlite://`` on the demo's own file: its history survives the restart,
so the page's live view resumes after the last position it saw and is replayed exactly what it
missed while the server was down, with no fresh snapshot; writes made while it was connected
arrive as events.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from .conftest import Demo, Page

PAGE_ROWS = "JSON.stringify([...document.querySelectorAll('#books tr')].map((r) => r.id))"
VIEW_ROWS = "JSON.stringify(window.bookstore.books.rows.map((b) => [b.id, b.title, b.year]))"

# Another process: creates, renames, re-dates and deletes books as fast as the server answers
# (at most 40 of its own, below the page's limit of 100), ignoring the failures of the
# moments the server is down, until it is stopped.
WRITER = """
import random, sys, httpx
random.seed(int(sys.argv[2]))
http = httpx.Client(base_url=sys.argv[1] + "/api", timeout=5)
n = 0
while True:
    n += 1
    try:
        books = http.get("/books", params={"limit": 100}).json()["objects"]
        mine = [b for b in books if b["title"].startswith("W")]
        op = random.choice(["create", "create", "rename", "year", "delete"]) if mine else "create"
        if len(mine) > 40:  # fewer books than the page's limit: no row ever leaves its window
            op = "delete"
        if op == "create":
            http.post("/books", json={"title": f"W{n:05}", "author_id": "butler"})
        elif op == "rename":  # moves the row within the title order
            http.patch("/books/" + random.choice(mine)["id"], json={"title": f"W{n:05}r"})
        elif op == "year":
            http.patch("/books/" + random.choice(mine)["id"], json={"year": n % 3000})
        else:
            http.delete("/books/" + random.choice(mine)["id"])
    except (httpx.HTTPError, ValueError, KeyError):
        pass  # the server is restarting
"""


@contextmanager
def writer(url: str) -> Iterator[subprocess.Popen[bytes]]:
    seed = time.time_ns() % 100_000
    print(f"writer seed {seed}")
    with subprocess.Popen([sys.executable, "-c", WRITER, url, str(seed)]) as process:
        try:
            yield process
        finally:
            process.terminate()
            process.wait(10)


async def server_rows(url: str) -> list[list[object]]:
    async with httpx.AsyncClient(timeout=10) as http:
        books = await http.get(url + "/api/books", params={"order_by": "title", "limit": 100})
    return [[b["id"], b["title"], b["year"]] for b in books.json()["objects"]]


async def wait_equal(page: Page, url: str, within: float = 15) -> list[list[object]]:
    """Wait until the page's view (and its table) equal the server's list."""
    deadline = time.monotonic() + within
    while True:
        expected = await server_rows(url)
        seen = json.loads(await page.evaluate(VIEW_ROWS))
        table = json.loads(await page.evaluate(PAGE_ROWS))
        if seen == expected and table == [f"book-{row[0]}" for row in expected]:
            return expected
        if time.monotonic() > deadline:
            pytest.fail(f"the page shows {seen}\nthe server lists {expected}\n{page.errors}")
        await page.evaluate("new Promise((r) => setTimeout(r, 100))")


@pytest.mark.timeout(120)
async def test_the_page_stays_true_across_a_restart_while_another_process_writes(
    page: Page, bookstore: Demo
) -> None:
    await page.send("Page.navigate", url=bookstore.url + "/")
    await page.wait_for("window.bookstore && window.bookstore.live")
    await page.evaluate(
        "window.snapshots = 0; window.bookstore.books.onRows = ((draw) => (rows, change) =>"
        " { if (change.event === 'snapshot') window.snapshots += 1; draw(rows, change); })"
        "(window.bookstore.books.onRows)"
    )
    state = "document.getElementById('status').dataset.state"
    with writer(bookstore.url):
        await page.evaluate("new Promise((r) => setTimeout(r, 1500))")  # live writes
        bookstore.stop()  # sockets closed with 1001 while the writer keeps trying
        await page.wait_for(f"{state} === 'offline'")
        bookstore.start()  # same port and database, a new process, the same event history
        await page.wait_for(f"{state} === 'live'", within=20)
        await page.evaluate("new Promise((r) => setTimeout(r, 1500))")  # writes after it
    rows = await wait_equal(page, bookstore.url)
    assert any(str(title).startswith("W") for _, title, _ in rows), "the writer wrote nothing"
    # The window never filled and the history reached back: what the page missed while the
    # server was down was replayed to it, not fetched again.
    assert await page.evaluate("window.snapshots") == 0
    print(f"rows: {len(rows)}")
    assert page.errors == []
