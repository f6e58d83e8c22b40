"""connect(), the store lifecycle and the Collection's own checks."""

from __future__ import annotations

import pytest

from tbone import Conflict, Model, PluginNotFound, QueryError, StoreUnavailable, ValidationError
from tbone.data import version_of
from tbone.storage import MemoryStore, connect


class Note(Model):
    text: str


async def test_connect_by_url_and_by_object() -> None:
    store = connect("memory://")
    assert isinstance(store, MemoryStore)
    assert connect(store) is store
    with pytest.raises(PluginNotFound, match="no store for 'nosuch://'; installed: memory"):
        connect("nosuch://x")


async def test_memory_stores_do_not_share_data() -> None:
    async with connect("memory://") as a, connect("memory://") as b:
        await a.collection(Note).insert(Note(text="x"))
        assert await b.collection(Note).count() == 0


async def test_closed_store_is_unavailable() -> None:
    async with MemoryStore() as store:
        notes = store.collection(Note)
    with pytest.raises(StoreUnavailable):
        await notes.insert(Note(text="x"))


async def test_update_cannot_change_the_primary_key() -> None:
    notes = MemoryStore().collection(Note)
    note = await notes.insert(Note(text="x"))
    with pytest.raises(ValidationError, match="primary key"):
        await notes.update(note.id, {"id": "other"})


async def test_update_without_expect_version_retries_lost_races() -> None:
    notes = MemoryStore().collection(Note)
    note = await notes.insert(Note(text="x"))
    store = notes.store
    real = store.replace_doc
    calls = 0

    async def racing(*args: object, **kwargs: object) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:  # another writer gets in first
            await real(notes.spec, note.id, {"id": note.id, "text": "other"}, None)
            raise Conflict("lost the race")
        return await real(*args, **kwargs)  # type: ignore[arg-type]

    store.replace_doc = racing  # type: ignore[method-assign]
    updated = await notes.update(note.id, {"text": "mine"})
    assert (updated.text, version_of(updated)) == ("mine", 3)


async def test_window_arguments_are_checked() -> None:
    notes = MemoryStore().collection(Note)
    for kwargs in ({"limit": -1}, {"offset": -1}, {"cursor": "x", "offset": 1}):
        with pytest.raises(QueryError):
            await notes.find(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="unknown field 'nope'"):
        await notes.find(fields=["nope"])
