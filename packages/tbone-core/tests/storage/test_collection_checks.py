"""Collection-level checks: which orderings page by cursor."""

from __future__ import annotations

from typing import Any

import pytest

from tbone import Model, QueryError
from tbone.storage import MemoryStore


class Loose(Model):
    extra: Any = None
    rank: int = 0


async def test_cursor_pagination_needs_typed_sort_fields() -> None:
    async with MemoryStore() as store:
        coll = store.collection(Loose)
        await coll.insert_many([Loose(extra=v) for v in (None, 1, "a", True)])
        assert coll.supports_cursor(["rank"])
        assert not coll.supports_cursor(["extra"])
        page = await coll.find(order_by=["extra"], limit=1)
        assert page.next_cursor is None
        typed = await coll.find(order_by=["rank"], limit=1)
        assert typed.next_cursor is not None
        with pytest.raises(QueryError, match="cursor pagination needs"):
            await coll.find(order_by=["extra"], limit=1, cursor=typed.next_cursor)
