"""``MemoryStore``: documents in dicts, queries evaluated in Python; the reference store.

Every other store must behave like this one (the conformance kit checks it). Documents are
copied in and out, so callers never share state with the store. Nothing is global: two stores
never see each other's data.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, ClassVar

from tbone.errors import Conflict, DuplicateKey, NotFound, StoreUnavailable

from .matcher import matches, same, sort_records
from .ops import UpdateOps, apply_ops
from .query import Query
from .store import CollectionSpec, Document, Record, Store

__all__ = ["MemoryStore"]

_Table = dict[Any, Record]


class MemoryStore(Store):
    """An in-process store for tests, demos and as the reference semantics (``memory://``)."""

    tbone_plugin_api = 1
    capabilities: ClassVar[frozenset[str]] = frozenset(
        {"unique", "text_search", "atomic_bulk", "native_ops"}
    )

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._tables: dict[str, _Table] = {}

    @classmethod
    def from_url(cls, url: str) -> MemoryStore:
        return cls(url)

    def _table(self, spec: CollectionSpec) -> _Table:
        if self.closed:
            raise StoreUnavailable(f"the memory store {self.url} is closed")
        return self._tables.setdefault(spec.name, {})

    async def insert_docs(self, spec: CollectionSpec, docs: Sequence[Document]) -> None:
        table = self._table(spec)
        staged: _Table = {}
        for doc in docs:
            pk = doc[spec.pk]
            if pk in table or pk in staged:
                raise DuplicateKey(f"{spec.name}: {spec.pk} {pk!r} already exists", field=spec.pk)
            if spec.unique:
                _check_unique(spec, [*table.values(), *staged.values()], doc)
            staged[pk] = Record(_clone(doc), 1)
        table.update(staged)

    async def get_docs(self, spec: CollectionSpec, pks: Sequence[Any]) -> list[Record]:
        table = self._table(spec)
        return [_copy(table[pk], None) for pk in pks if pk in table]

    async def count_docs(self, spec: CollectionSpec, query: Query) -> int:
        table = self._table(spec)
        if query.where is None:
            return len(table)
        return sum(1 for r in table.values() if matches(query.where, r.doc))

    async def find_docs(self, spec: CollectionSpec, query: Query) -> list[Record]:
        table = self._table(spec)
        where = query.where
        found = (
            list(table.values())
            if where is None
            else [r for r in table.values() if matches(where, r.doc)]
        )
        found = sort_records(found, query.order)
        end = None if query.limit is None else query.offset + query.limit
        return [_copy(r, query.fields) for r in found[query.offset : end]]

    async def replace_doc(
        self, spec: CollectionSpec, pk: Any, doc: Document, expect_version: int | None
    ) -> int:
        table = self._table(spec)
        current = _current(spec, table, pk, expect_version)
        if spec.unique:
            _check_unique(spec, [r for k, r in table.items() if k != pk], doc)
        table[pk] = Record(_clone(doc), current.version + 1)
        return current.version + 1

    async def update_ops(
        self, spec: CollectionSpec, pk: Any, ops: UpdateOps, expect_version: int | None
    ) -> tuple[Record, Record]:
        # No await between the read and the write: one atomic step for this event loop.
        table = self._table(spec)
        current = _current(spec, table, pk, expect_version)
        doc = apply_ops(current.doc, ops)
        if ops.fields() & set(spec.unique):
            _check_unique(spec, [r for k, r in table.items() if k != pk], doc)
        table[pk] = after = Record(doc, current.version + 1)
        return _copy(current, None), _copy(after, None)

    async def delete_doc(self, spec: CollectionSpec, pk: Any, expect_version: int | None) -> None:
        table = self._table(spec)
        _current(spec, table, pk, expect_version)
        del table[pk]


def _current(spec: CollectionSpec, table: _Table, pk: Any, expect_version: int | None) -> Record:
    current = table.get(pk)
    if current is None:
        raise NotFound(f"no {spec.name} document has {spec.pk} {pk!r}")
    if expect_version is not None and current.version != expect_version:
        raise Conflict(
            f"{spec.name} {pk!r} is at version {current.version}, not {expect_version}: "
            "it changed since you read it; read it again and retry"
        )
    return current


def _check_unique(spec: CollectionSpec, others: Sequence[Record], doc: Document) -> None:
    for name in spec.unique:
        value = doc.get(name)
        if value is not None and any(same(r.doc.get(name), value) for r in others):
            raise DuplicateKey(f"{spec.name}: {name} {value!r} is already taken", field=name)


def _copy(record: Record, fields: frozenset[str] | None) -> Record:
    doc = record.doc if fields is None else {k: v for k, v in record.doc.items() if k in fields}
    return Record(_clone(doc), record.version)


def _clone(value: Any) -> Any:
    """A deep copy of JSON-ready data (what stores hold), several times faster than deepcopy."""
    kind = type(value)
    if kind is dict:
        return {k: _clone(v) if type(v) in _CONTAINERS else v for k, v in value.items()}
    if kind is list:
        return [_clone(v) if type(v) in _CONTAINERS else v for v in value]
    return copy.deepcopy(value) if kind not in _SCALARS else value


_CONTAINERS = (dict, list)
_SCALARS = (str, int, float, bool, type(None))
