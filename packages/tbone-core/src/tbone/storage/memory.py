"""``MemoryStore``: documents in dicts, queries evaluated in Python; the reference store.

Every other store must behave like this one (the conformance kit checks it). Documents are
copied in and out, so callers never share state with the store. Nothing is global: two stores
never see each other's data.

Each collection keeps an equality index on its primary key and on every ``index=True`` or
``unique`` field (:class:`_Index`, updated by every write), so a filter whose top level asks
such a field to be equal to, or one of, some values reads only the documents holding them;
the reference matcher still decides each one.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, ClassVar

import attrs

from tbone.errors import Conflict, DuplicateKey, NotFound, StoreUnavailable, TBoneError

from .matcher import hash_key, matches, native_at, same, sort_records
from .ops import UpdateOps, apply_ops
from .path import Target, resolve
from .query import And, Filter, Node, Order, Query
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
        self._indexes: dict[str, _Index] = {}
        # per table: (primary key, its keys in ascending order) until a key is added or deleted
        self._sorted: dict[str, tuple[str, list[Any]]] = {}
        # per table: the last filter matched and its documents, until the next write
        self._matched: dict[str, tuple[Node, bool, list[Record]]] = {}

    @classmethod
    def from_url(cls, url: str) -> MemoryStore:
        return cls(url)

    def _table(self, spec: CollectionSpec) -> _Table:
        if self.closed:
            raise StoreUnavailable(f"the memory store {self.url} is closed")
        return self._tables.setdefault(spec.name, {})

    def _index(self, spec: CollectionSpec) -> _Index:
        index = self._indexes.get(spec.name)
        names = _indexed(spec)
        if index is None or index.names != names:  # first use, or another model on this name
            index = self._indexes[spec.name] = _Index(spec, names)
            for pk, record in self._table(spec).items():
                index.add(pk, record.doc)
        return index

    def _matching(
        self, spec: CollectionSpec, query: Query, *, counting: bool = False
    ) -> list[Record]:
        """The documents matching ``query``'s filter (callers do not change the list). The
        last answer per collection is kept, for that very filter object, until the next
        write: a page and its count asked with one compiled filter (what a listing does)
        match once."""
        table, where = self._table(spec), query.where
        if where is None:
            return list(table.values())
        ordered = bool(query.order)  # unordered answers keep the table's order
        last = self._matched.get(spec.name)
        if last is not None and last[0] is where and (ordered or counting or not last[1]):
            return last[2]
        found = self._match(table, spec, where, ordered)
        self._matched[spec.name] = (where, ordered, found)
        return found

    def _match(
        self, table: _Table, spec: CollectionSpec, where: Node, ordered: bool
    ) -> list[Record]:
        pks = self._index(spec).candidates(where)
        if pks is None:
            return [r for r in table.values() if matches(where, r.doc)]
        if not ordered:  # no ordering asked: keep the table's order
            return [r for pk, r in table.items() if pk in pks and matches(where, r.doc)]
        return [r for r in (table[pk] for pk in pks) if matches(where, r.doc)]

    def _check_unique(
        self, spec: CollectionSpec, doc: Document, pk: Any, staged: Sequence[Record] = ()
    ) -> None:
        """Raise ``DuplicateKey`` if another document (not ``pk``) holds a unique value of
        ``doc``: only the documents whose indexed value is the same are compared."""
        table, index = self._table(spec), self._index(spec)
        for name in spec.unique:
            value = doc.get(name)
            if value is None:
                continue
            pks = index.holding(name, doc)
            others = table.values() if pks is None else (table[k] for k in pks)
            for record in (*staged, *others):
                if record.doc[spec.pk] != pk and same(record.doc.get(name), value):
                    raise DuplicateKey(
                        f"{spec.name}: {name} {value!r} is already taken", field=name
                    )

    def _put(self, spec: CollectionSpec, pk: Any, record: Record) -> None:
        table, index = self._table(spec), self._index(spec)
        old = table.get(pk)
        if old is not None:
            index.remove(pk, old.doc)
        self._changed(spec, keys=old is None)
        table[pk] = record
        index.add(pk, record.doc)

    async def insert_docs(self, spec: CollectionSpec, docs: Sequence[Document]) -> None:
        table = self._table(spec)
        staged: _Table = {}
        for doc in docs:
            pk = doc[spec.pk]
            if pk in table or pk in staged:
                raise DuplicateKey(f"{spec.name}: {spec.pk} {pk!r} already exists", field=spec.pk)
            if spec.unique:
                self._check_unique(spec, doc, None, list(staged.values()))
            staged[pk] = Record(_clone(doc), 1)
        for pk, record in staged.items():
            self._put(spec, pk, record)

    async def get_docs(self, spec: CollectionSpec, pks: Sequence[Any]) -> list[Record]:
        table = self._table(spec)
        return [_copy(table[pk], None) for pk in pks if pk in table]

    async def count_docs(self, spec: CollectionSpec, query: Query) -> int:
        if query.where is None:
            return len(self._table(spec))
        return len(self._matching(spec, query, counting=True))

    async def find_docs(self, spec: CollectionSpec, query: Query) -> list[Record]:
        end = None if query.limit is None else query.offset + query.limit
        if query.where is None and _by_pk(spec, query.order):
            return [_copy(r, query.fields) for r in self._page_by_pk(spec, query, end)]
        found = sort_records(self._matching(spec, query), query.order)
        return [_copy(r, query.fields) for r in found[query.offset : end]]

    def _page_by_pk(self, spec: CollectionSpec, query: Query, end: int | None) -> list[Record]:
        """A page of the whole table by primary key alone: the keys are sorted once and kept
        until one is added or deleted, so each page reads only its own documents."""
        table = self._table(spec)
        cached = self._sorted.get(spec.name)
        if cached is None or cached[0] != spec.pk:
            ascending = (attrs.evolve(query.order[0], descending=False),)
            keys = [r.doc[spec.pk] for r in sort_records(table.values(), ascending)]
            cached = self._sorted[spec.name] = (spec.pk, keys)
        keys = cached[1]
        if query.order[0].descending:  # the same window counted from the other end
            count = len(keys)
            stop = count - query.offset
            start = 0 if end is None else max(count - end, 0)
            window = keys[start:stop][::-1] if stop > 0 else []
        else:
            window = keys[query.offset : end]
        return [table[pk] for pk in window]

    async def replace_doc(
        self, spec: CollectionSpec, pk: Any, doc: Document, expect_version: int | None
    ) -> int:
        table = self._table(spec)
        current = _current(spec, table, pk, expect_version)
        if spec.unique:
            self._check_unique(spec, doc, pk)
        self._put(spec, pk, Record(_clone(doc), current.version + 1))
        return current.version + 1

    async def update_ops(
        self, spec: CollectionSpec, pk: Any, ops: UpdateOps, expect_version: int | None
    ) -> tuple[Record, Record]:
        # No await between the read and the write: one atomic step for this event loop.
        table = self._table(spec)
        current = _current(spec, table, pk, expect_version)
        doc = apply_ops(current.doc, ops)
        if ops.fields() & set(spec.unique):
            self._check_unique(spec, doc, pk)
        after = Record(doc, current.version + 1)
        self._put(spec, pk, after)
        return _copy(current, None), _copy(after, None)

    async def delete_doc(self, spec: CollectionSpec, pk: Any, expect_version: int | None) -> None:
        table = self._table(spec)
        current = _current(spec, table, pk, expect_version)
        self._index(spec).remove(pk, current.doc)
        self._changed(spec, keys=True)
        del table[pk]

    def _changed(self, spec: CollectionSpec, *, keys: bool) -> None:
        """A write to ``spec``'s table: its kept match is stale, and so is its key order when
        a key came or went (``keys``)."""
        self._matched.pop(spec.name, None)
        if keys:
            self._sorted.pop(spec.name, None)


def _by_pk(spec: CollectionSpec, order: Sequence[Order]) -> bool:
    """Whether ``order`` sorts by the primary key alone."""
    return len(order) == 1 and order[0].target.path == (spec.pk,)


def _indexed(spec: CollectionSpec) -> tuple[str, ...]:
    return tuple(dict.fromkeys((spec.pk, *spec.unique, *spec.indexes)))


class _Index:
    """Primary keys by the native value of each indexed field (as ``same`` compares them).

    Values without a hash key (lists, objects, models) or that do not load are kept apart,
    as candidates for every lookup on their field."""

    def __init__(self, spec: CollectionSpec, names: tuple[str, ...]) -> None:
        self.names = names
        self.targets: dict[str, Target] = {}
        for name in names:
            try:
                target = resolve(spec.model, [name])
            except TBoneError:
                continue  # a stored key that is no model field (scoped unique keys)
            if target.kind in ("scalar", "any"):
                self.targets[name] = target
        self.keys: dict[str, dict[Any, set[Any]]] = {n: {} for n in self.targets}
        self.rest: dict[str, set[Any]] = {n: set() for n in self.targets}

    def _key(self, target: Target, doc: Document) -> Any:
        try:
            return hash_key(native_at(target, doc))
        except Exception:  # a stored value its converter refuses: the matcher decides
            return None

    def add(self, pk: Any, doc: Document) -> None:
        for name, target in self.targets.items():
            key = self._key(target, doc)
            if key is None:
                self.rest[name].add(pk)
            else:
                self.keys[name].setdefault(key, set()).add(pk)

    def remove(self, pk: Any, doc: Document) -> None:
        for name, target in self.targets.items():
            key = self._key(target, doc)
            bucket = self.rest[name] if key is None else self.keys[name].get(key)
            if bucket is not None:
                bucket.discard(pk)
                if not bucket and key is not None:
                    del self.keys[name][key]

    def holding(self, name: str, doc: Document) -> set[Any] | None:
        """The documents that may hold the value ``doc`` has at ``name`` (``None``: any)."""
        target = self.targets.get(name)
        if target is None:
            return None
        key = self._key(target, doc)
        if key is None:
            return None
        return self.rest[name] | self.keys[name].get(key, set())

    def candidates(self, where: Node) -> set[Any] | None:
        """The documents that can match ``where`` (a superset), or ``None`` for all of them."""
        best: set[Any] | None = None
        for node in where.children if isinstance(where, And) else (where,):
            pks = self._lookup(node) if isinstance(node, Filter) else None
            if pks is not None and (best is None or len(pks) < len(best)):
                best = pks
        return best

    def _lookup(self, f: Filter) -> set[Any] | None:
        if f.lookup not in ("exact", "in") or len(f.path) != 1:
            return None
        name = f.path[0]
        target = self.targets.get(name)
        if target is None or target != f.target:
            return None
        keys = [hash_key(v) for v in (f.value if f.lookup == "in" else (f.value,))]
        if any(k is None for k in keys):
            return None
        index = self.keys[name]
        found = set(self.rest[name])
        for key in keys:
            found.update(index.get(key, ()))
        return found


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
