"""The bookstore page in headless Chromium: it lists the books, follows changes made by other
clients live (created, updated, deleted) and adds books through its form."""

from __future__ import annotations

import json

import httpx
import pytest

from .conftest import Demo, Page

ROWS = "[...document.querySelectorAll('#books tr')].map((r) => r.dataset.title)"


def has_row(title: str) -> str:
    return f"{ROWS}.includes({json.dumps(title)})"


@pytest.mark.timeout(120)
async def test_the_page_follows_changes_made_elsewhere(page: Page, bookstore: Demo) -> None:
    await page.send("Page.navigate", url=bookstore.url + "/")
    await page.wait_for("window.bookstore && window.bookstore.live")
    assert await page.evaluate(ROWS) == [
        "Dune",
        "Kindred",
        "The Dispossessed",
        "The Left Hand of Darkness",
    ]
    assert await page.evaluate("document.getElementById('status').dataset.state") == "live"

    async with httpx.AsyncClient(base_url=bookstore.url + "/api", timeout=10) as http:
        created = await http.post(
            "/books",
            json={"title": "Parable of the Sower", "author_id": "butler", "year": 1993},
        )
        assert created.status_code == 201
        book = created.json()
        await page.wait_for(has_row("Parable of the Sower"))
        row = f"document.getElementById('book-{book['id']}')"
        assert await page.evaluate(f"{row}.children[1].textContent") == "Octavia E. Butler"

        patched = await http.patch(f"/books/{book['id']}", json={"title": "Parable of the Talents"})
        assert patched.status_code == 200
        await page.wait_for(has_row("Parable of the Talents"))
        assert not await page.evaluate(has_row("Parable of the Sower"))

        assert (await http.delete(f"/books/{book['id']}")).status_code == 204
        await page.wait_for(f"!{row}")
        assert len(await page.evaluate(ROWS)) == 4

        # the page's own form: the book reaches the server and comes back as a live event
        await page.evaluate(
            """(() => {
              const form = document.getElementById('add');
              form.title.value = 'Wild Seed';
              form.author_id.value = 'butler';
              form.year.value = '1980';
              form.tags.value = 'scifi, ancient';
              form.requestSubmit();
            })()"""
        )
        await page.wait_for(has_row("Wild Seed"))
        listed = (await http.get("/books", params={"q": "Wild Seed"})).json()["objects"]
        assert [(b["year"], b["tags"]) for b in listed] == [(1980, ["scifi", "ancient"])]

        # a refused form shows the server's problem (past the browser's own checks)
        await page.evaluate(
            "(() => { const f = document.getElementById('add'); f.noValidate = true;"
            " f.title.value = 'Bad year'; f.year.value = '5000'; f.requestSubmit(); })()"
        )
        error = await page.wait_for("document.getElementById('error').textContent")
        assert "422" in error
        assert "year" in error
    assert page.errors == []


@pytest.mark.timeout(120)
async def test_the_page_reconnects_when_the_server_comes_back(page: Page, bookstore: Demo) -> None:
    await page.send("Page.navigate", url=bookstore.url + "/")
    await page.wait_for("window.bookstore && window.bookstore.live")
    state = "document.getElementById('status').dataset.state"

    bookstore.stop()  # sockets closed 1001: the page shows it is offline and keeps retrying
    await page.wait_for(f"{state} === 'offline'")
    bookstore.start()  # same port, same database
    await page.wait_for(f"{state} === 'live'", within=20)

    # the subscription was renewed: a change made after the restart shows up
    async with httpx.AsyncClient(base_url=bookstore.url + "/api", timeout=10) as http:
        created = await http.post("/books", json={"title": "Fledgling", "author_id": "butler"})
        assert created.status_code == 201
    await page.wait_for(has_row("Fledgling"))
    assert len(await page.evaluate(ROWS)) == 5
    assert page.errors == []
