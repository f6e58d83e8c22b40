"""``Page``: a read-only sequence of one page's items, with the cursor to the next page."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from tbone import Model
from tbone.storage import MemoryStore, Page


class Note(Model):
    text: str


def test_a_page_is_a_sequence() -> None:
    page = Page(["a", "b", "c"], next_cursor="c1")
    assert isinstance(page, Sequence)
    assert (page[0], page[1], page[-1]) == ("a", "b", "c")
    assert page[1:] == ["b", "c"]
    assert page[::-1] == ["c", "b", "a"]
    assert page[5:] == []
    assert len(page) == 3
    assert list(page) == ["a", "b", "c"]
    assert list(reversed(page)) == ["c", "b", "a"]
    assert "b" in page
    assert "z" not in page
    assert page.index("c") == 2
    assert page.count("a") == 1
    with pytest.raises(IndexError):
        page[3]


def test_a_page_is_frozen_and_compares_by_items_and_cursor() -> None:
    page = Page([1, 2], next_cursor="x")
    assert page == Page([1, 2], next_cursor="x")
    assert page != Page([1, 2])
    with pytest.raises(AttributeError):
        page.next_cursor = None  # type: ignore[misc]  # frozen, which is what is tested


async def test_find_returns_pages_that_index_and_slice() -> None:
    async with MemoryStore() as store:
        notes = store.collection(Note)
        await notes.insert_many([Note(text=t) for t in "abcde"])
        page = await notes.find(order_by=["text"], limit=3)
        assert [n.text for n in page[:2]] == ["a", "b"]
        assert page[-1].text == "c"
        assert page.next_cursor is not None
        rest = await notes.find(order_by=["text"], limit=3, cursor=page.next_cursor)
        assert [n.text for n in rest] == ["d", "e"]
        assert rest.next_cursor is None
