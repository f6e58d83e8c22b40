"""The bookstore page's details panel: a book with its author embedded (``?expand=author_id``)
and the custom action ``POST /api/books/{id}/review``, whose write the live list follows."""

from __future__ import annotations

import pytest

from .conftest import Demo, Page

DUNE_ROW = "[...document.querySelectorAll('#books tr')].find((r) => r.dataset.title === 'Dune')"


@pytest.mark.timeout(120)
async def test_details_show_the_author_and_a_review_updates_the_list(
    page: Page, bookstore: Demo
) -> None:
    await page.send("Page.navigate", url=bookstore.url + "/")
    await page.wait_for("window.bookstore && window.bookstore.live")
    assert await page.evaluate(f"{DUNE_ROW}.children[4].textContent") == "\u2605 4.5"
    await page.evaluate(f"{DUNE_ROW}.querySelector('button.more').click()")
    await page.wait_for("!document.getElementById('details').hidden")
    author = await page.wait_for("document.getElementById('details-author').textContent")
    assert author == "by Frank Herbert (born 1920)"
    await page.evaluate(
        """(() => {
          const form = document.getElementById('review');
          form.reviewer.value = 'kim';
          form.rating.value = '3';
          form.requestSubmit();
        })()"""
    )
    await page.wait_for(f"{DUNE_ROW}.children[4].textContent === '\u2605 4'")
    assert await page.evaluate("document.getElementById('error').textContent") == ""
    assert page.errors == []
