"""``Collection[M]``: typed, validated, versioned access to one model's documents in a store."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, NoReturn, TypeVar, overload

import attrs

from tbone.data import Model, set_version, version_of
from tbone.errors import (
    Conflict,
    DuplicateKey,
    NotFound,
    QueryError,
    StoreUnavailable,
    ValidationError,
)

from .cursor import after, decode_cursor, encode_cursor
from .matcher import matches
from .ops import SWAP_ATTEMPTS, UpdateOps, apply_ops, backoff, compile_ops
from .path import resolve
from .query import (
    Node,
    Order,
    Q,
    Query,
    Search,
    compile_where,
    conjoin,
    parse_order,
    search_targets,
)
from .rewrite import expand_search
from .store import SCOPED_UNIQUE_PREFIX, CollectionSpec, Document, Record, Store

__all__ = ["Collection", "Page"]

M = TypeVar("M", bound=Model)
T = TypeVar("T")

_UPDATE_ATTEMPTS = 8  # read-merge-write retries when another writer got in between
_ORDERS_KEPT = 64  # parsed orderings a collection keeps (order_by may come from clients)


@attrs.frozen
class Page(Sequence[T]):
    """One page of results, a sequence of its items: ``page[0]``, ``page[-2:]``, ``len(page)``.

    ``next_cursor`` resumes after the last item; ``None`` at the end. It is only computed when a
    ``limit`` was given (otherwise there is no next page). A slice is a plain list: it has no
    cursor of its own.

    >>> page = Page(["a", "b", "c"], next_cursor="...")
    >>> page[0], page[-1], page[1:], "b" in page, page.index("c")
    ('a', 'c', ['b', 'c'], True, 2)
    """

    items: list[T]
    next_cursor: str | None = None

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self.items[index]

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class Collection(Generic[M]):
    """The documents of one model in one store; get it with ``store.collection(Book)``."""

    def __init__(self, store: Store, spec: CollectionSpec) -> None:
        self.store = store
        self.spec = spec
        self.model: type[M] = spec.model  # type: ignore[assignment]  # spec is built from M
        self._orders: dict[str | tuple[str, ...], tuple[Order, ...]] = {}

    # -- writes ------------------------------------------------------------------------------

    async def insert(self, obj: M) -> M:
        """Store a new document; it gets version 1. ``DuplicateKey`` if a unique value is taken."""
        doc = self._dump(obj)
        await self._ready()
        try:
            await self.store.insert_docs(self.spec, [doc])
        except DuplicateKey as exc:
            self._raise_named(exc)
        set_version(obj, 1)
        return obj

    async def insert_many(self, objs: Sequence[M]) -> list[M]:
        """Store several new documents (all or none where the store has ``atomic_bulk``)."""
        docs = [self._dump(obj) for obj in objs]
        await self._ready()
        if docs:
            try:
                await self.store.insert_docs(self.spec, docs)
            except DuplicateKey as exc:
                self._raise_named(exc)
        for obj in objs:
            set_version(obj, 1)
        return list(objs)

    async def update(
        self,
        pk: Any,
        changes: Mapping[str, Any] | None = None,
        *,
        inc: Mapping[str, int | float] | None = None,
        push: Mapping[str, Any] | None = None,
        add_to_set: Mapping[str, Any] | None = None,
        pull: Mapping[str, Any] | None = None,
        expect_version: int | None = None,
    ) -> M:
        """Change one stored document and return it as stored, with the next version.

        ``changes`` sets top-level fields (wire form). Alone, they are merged into the
        document and the result validated as a whole. With any of the atomic operators the
        store applies everything in one atomic step (see :meth:`update_ops`)::

            await books.update(pk, inc={"stock": -1}, push={"log": "sold one"})

        Raises ``NotFound``, ``Conflict`` (stale ``expect_version``), ``ValidationError``
        (nothing is written) or ``DuplicateKey``.
        """
        if inc is None and push is None and add_to_set is None and pull is None:
            return await self._update_changes(pk, changes or {}, expect_version)
        _, after = await self.update_ops(
            pk,
            changes,
            inc=inc,
            push=push,
            add_to_set=add_to_set,
            pull=pull,
            expect_version=expect_version,
        )
        return after

    async def update_ops(
        self,
        pk: Any,
        changes: Mapping[str, Any] | None = None,
        *,
        inc: Mapping[str, int | float] | None = None,
        push: Mapping[str, Any] | None = None,
        add_to_set: Mapping[str, Any] | None = None,
        pull: Mapping[str, Any] | None = None,
        expect_version: int | None = None,
        where: Q | Node | Mapping[str, Any] | None = None,
    ) -> tuple[M, M]:
        """Apply atomic update operators to one document; return it ``(before, after)``.

        Paths are dotted (``"author.born"``, into nested models and dicts). ``changes`` sets
        top-level fields; ``inc`` adds a number to an ``int``/``float`` field, which must stay
        within its bounds (``ge gt le lt``); ``push`` appends an item to a list
        (``each(a, b)`` several); ``add_to_set`` appends items the list lacks; ``pull`` removes
        every occurrence. Everything is checked against the model first, and the limits again
        by the store in the same atomic step as the write: a decrement below ``ge=0`` raises
        ``ValidationError`` and changes nothing, however many writers race.

        ``where`` (a filter: ``Q``, a compiled node, or a mapping of lookups such as
        ``{"owner": "ann"}``; e.g. a resource's scope) must match the document as it is when
        the operators apply, else ``NotFound``, as if it did not exist: it is checked on the
        document read, and the operators then apply only at the version read (retried when
        another writer got in first).

        >>> before, after = await items.update_ops(pk, inc={"stock": -1})  # doctest: +SKIP
        """
        changes = {} if changes is None else changes
        if not isinstance(changes, Mapping):
            raise ValidationError.single([], "changes must map field names to values", "type")
        if self.spec.pk in changes and changes[self.spec.pk] != self._wire_pk(pk):
            raise ValidationError.single([self.spec.pk], "the primary key cannot change", "pk")
        ops = compile_ops(
            self.model,
            pk=self.spec.pk,
            changes=changes,
            inc=inc,
            push=push,
            add_to_set=add_to_set,
            pull=pull,
            scoped=self._scoped_fields(),
        )
        node = _where_node(self, where)
        if not ops.store_checked or not ops.ops:
            return await self._swap_ops(pk, ops, expect_version, node)
        if node is not None:
            return await self._ops_where(pk, ops, expect_version, node)
        return await self._native_ops(pk, ops, expect_version)

    async def _native_ops(self, pk: Any, ops: UpdateOps, expect_version: int | None) -> tuple[M, M]:
        await self._ready()
        try:
            before, after = await self.store.update_ops(
                self.spec, self._wire_pk(pk), ops, expect_version
            )
        except DuplicateKey as exc:
            self._raise_named(exc)
        return self._load(before), self._load(after)

    async def _ops_where(
        self, pk: Any, ops: UpdateOps, expect_version: int | None, where: Node
    ) -> tuple[M, M]:
        for attempt in range(SWAP_ATTEMPTS):
            record = await self._record(pk)
            self._check_where(pk, record, where)
            if expect_version is not None and record.version != expect_version:
                raise _stale(self.spec, pk, expect_version, record.version)
            try:
                return await self._native_ops(pk, ops, record.version)
            except Conflict:
                if expect_version is not None:
                    raise
                await backoff(attempt)
        raise Conflict(f"{self.spec.name} {pk!r} kept changing; gave up after retries")

    def _check_where(self, pk: Any, record: Record, where: Node | None) -> None:
        if where is not None and not matches(where, record.doc):
            raise NotFound(f"no {self.spec.name} document has {self.spec.pk} {pk!r}")

    async def _update_changes(
        self, pk: Any, changes: Mapping[str, Any], expect_version: int | None
    ) -> M:
        if self.spec.pk in changes and changes[self.spec.pk] != self._wire_pk(pk):
            raise ValidationError.single([self.spec.pk], "the primary key cannot change", "pk")

        # merge() on the stored document itself: the merged data is validated as a whole
        # anyway, so loading the current one into a model and dumping it again adds nothing
        for _ in range(_UPDATE_ATTEMPTS):
            record = await self._record(pk)
            if expect_version is not None and record.version != expect_version:
                raise _stale(self.spec, pk, expect_version, record.version)
            obj = self.model.from_data({**self._stored(record.doc), **changes})
            try:
                return await self._write(obj, record.version)
            except Conflict:
                if expect_version is not None:
                    raise
        raise Conflict(f"{self.spec.name} {pk!r} kept changing; gave up after retries")

    async def _swap_ops(
        self, pk: Any, ops: UpdateOps, expect_version: int | None, where: Node | None
    ) -> tuple[M, M]:
        """Operators whose result only the whole model can check: applied in Python, validated,
        written with a version check, retried when another writer got in first."""
        for attempt in range(SWAP_ATTEMPTS):
            record = await self._record(pk)
            self._check_where(pk, record, where)
            before = self._load(record)
            version = record.version
            if expect_version is not None and version != expect_version:
                raise _stale(self.spec, pk, expect_version, version or 0)
            after = self.model.from_data(apply_ops(before.to_data(full=True), ops))
            try:
                return before, await self._write(after, version)
            except Conflict:
                if expect_version is not None:
                    raise
                await backoff(attempt)
        raise Conflict(f"{self.spec.name} {pk!r} kept changing; gave up after retries")

    async def merge(
        self,
        pk: Any,
        apply: Callable[[M], M],
        *,
        expect_version: int | None = None,
        current: M | None = None,
    ) -> M:
        """Store ``apply(current)`` only if the document is still ``current``: the one
        read-modify-write of TBone (``update`` and resources' PUT and PATCH use it).

        A writer that got in between makes it read again and re-apply, a few times, unless
        ``expect_version`` names the version the caller wants to change (then ``Conflict``).
        ``current`` saves the first read when the caller already has the document.
        """
        for _ in range(_UPDATE_ATTEMPTS):
            if current is None:
                current = await self._current(pk)
            version = version_of(current)
            if expect_version is not None and version != expect_version:
                raise _stale(self.spec, pk, expect_version, version or 0)
            try:
                return await self._write(apply(current), version)
            except Conflict:
                if expect_version is not None:
                    raise
            current = None
        raise Conflict(f"{self.spec.name} {pk!r} kept changing; gave up after retries")

    async def replace(self, obj: M, *, expect_version: int | None = None) -> M:
        """Store ``obj`` over the document with its primary key (``NotFound`` if none)."""
        obj.validate()
        return await self._write(obj, expect_version)

    async def delete(self, pk: Any, *, expect_version: int | None = None) -> None:
        """Delete one document: ``NotFound`` if missing, ``Conflict`` on a stale version."""
        await self._ready()
        await self.store.delete_doc(self.spec, self._wire_pk(pk), expect_version)

    async def delete_many(self, *where: Q | Node, **lookups: Any) -> int:
        """Delete every matching document (all of them when no filter); return how many."""
        query = Query(where=self.where(*where, **lookups))
        await self._ready()
        return await self.store.delete_where(self.spec, query)

    # -- reads -------------------------------------------------------------------------------

    async def get(self, pk: Any) -> M | None:
        """The document with primary key ``pk``, or ``None``."""
        await self._ready()
        found = await self.store.get_docs(self.spec, [self._wire_pk(pk)])
        return self._load(found[0]) if found else None

    @overload
    async def find(
        self,
        *where: Q | Node,
        order_by: Sequence[str] | str = ...,
        limit: int | None = ...,
        offset: int = ...,
        cursor: str | None = ...,
        fields: None = ...,
        search: str | None = ...,
        search_fields: Sequence[str] | None = ...,
        **lookups: Any,
    ) -> Page[M]: ...

    @overload
    async def find(
        self,
        *where: Q | Node,
        order_by: Sequence[str] | str = ...,
        limit: int | None = ...,
        offset: int = ...,
        cursor: str | None = ...,
        fields: Sequence[str],
        search: str | None = ...,
        search_fields: Sequence[str] | None = ...,
        **lookups: Any,
    ) -> Page[Document]: ...

    async def find(
        self,
        *where: Q | Node,
        order_by: Sequence[str] | str = (),
        limit: int | None = None,
        offset: int = 0,
        cursor: str | None = None,
        fields: Sequence[str] | None = None,
        search: str | None = None,
        search_fields: Sequence[str] | None = None,
        **lookups: Any,
    ) -> Page[M] | Page[Document]:
        """Matching documents, sorted by ``order_by`` then primary key, one page at a time.

        ``limit``/``offset`` page by position; ``cursor`` (a previous ``Page.next_cursor``)
        resumes after the last document seen, with the same filter and ordering. ``fields``
        returns JSON-ready dicts holding only those fields (and the primary key).
        """
        _check_window(limit, offset, cursor)
        order = self._order(order_by)
        keyset = _keyset(order)
        node = self.where(*where, search=search, search_fields=search_fields, **lookups)
        if cursor is not None:
            if not keyset:
                raise QueryError.single(
                    ["cursor"],
                    "cursor pagination needs every ordered field to have one type; "
                    "order by typed fields, or page with offset",
                    "cursor",
                )
            node = conjoin([node, after(order, decode_cursor(order, cursor))])
        asked = self._projection(fields)
        wanted = None if asked is None else asked | {o.target.path[0] for o in order}
        fetch = None if limit is None else limit + 1
        query = Query(node, order, fetch, offset, None if wanted is None else frozenset(wanted))
        await self._ready()
        records = await self.store.find_docs(self.spec, query)
        more = limit is not None and len(records) > limit
        records = records[:limit] if limit is not None else records
        next_cursor = encode_cursor(order, records[-1].doc) if more and records and keyset else None
        if asked is None:
            return Page(self._load_all(records), next_cursor)
        return Page([{k: v for k, v in r.doc.items() if k in asked} for r in records], next_cursor)

    async def count(
        self,
        *where: Q | Node,
        search: str | None = None,
        search_fields: Sequence[str] | None = None,
        **lookups: Any,
    ) -> int:
        """How many documents match."""
        node = self.where(*where, search=search, search_fields=search_fields, **lookups)
        await self._ready()
        return await self.store.count_docs(self.spec, Query(where=node))

    def supports_cursor(self, order_by: Sequence[str] | str = ()) -> bool:
        """Whether ``find`` pages by cursor for this ordering (every ordered field typed)."""
        return _keyset(self._order(order_by))

    def where(
        self,
        *where: Q | Node,
        search: str | None = None,
        search_fields: Sequence[str] | None = None,
        **lookups: Any,
    ) -> Node | None:
        """Compile a filter for this collection's model (what ``find`` and ``count`` do)."""
        node = compile_where(self.model, *where, **lookups)
        if search is not None and search.strip():
            node = conjoin([node, Search(search, search_targets(self.model, search_fields))])
        if node is not None and not self.store.supports("text_search"):
            node = expand_search(node)
        return node

    # -- helpers -----------------------------------------------------------------------------

    async def _ready(self) -> None:
        if self.store.closed:
            raise StoreUnavailable(f"the store holding '{self.spec.name}' is closed")
        await self.store.ensure_prepared(self.spec)

    async def _current(self, pk: Any) -> M:
        return self._load(await self._record(pk))

    async def _record(self, pk: Any) -> Record:
        await self._ready()
        found = await self.store.get_docs(self.spec, [self._wire_pk(pk)])
        if not found:
            raise NotFound(f"no {self.spec.name} document has {self.spec.pk} {pk!r}")
        return found[0]

    async def _write(self, obj: M, expect_version: int | None) -> M:
        doc = self._dump(obj)
        await self._ready()
        try:
            version = await self.store.replace_doc(
                self.spec, doc[self.spec.pk], doc, expect_version
            )
        except DuplicateKey as exc:
            self._raise_named(exc)
        set_version(obj, version)
        return obj

    def _raise_named(self, exc: DuplicateKey) -> NoReturn:
        """A store's ``DuplicateKey`` on a scoped-unique key, told as the field it guards (the
        store's own error as it is, otherwise). Called in a ``try`` at each write rather than
        being a context manager: it guards every write, and a generator-based one costs about
        a microsecond."""
        for key, name, scope in self.spec.scoped_unique:
            if exc.field == key:
                within = ", ".join(scope)
                raise DuplicateKey(
                    f"{self.spec.name}: that {name} is already taken (among objects with "
                    f"the same {within})",
                    field=name,
                ) from exc
        raise exc

    def _dump(self, obj: M) -> Document:
        if not isinstance(obj, self.model):
            raise TypeError(f"expected a {self.model.__name__}, got {type(obj).__name__}")
        doc = obj.to_data(full=True)
        for key, name, scope in self.spec.scoped_unique:
            value = doc.get(name)
            doc[key] = None if value is None else _scoped_key([doc.get(n) for n in scope], value)
        return doc

    def _load(self, record: Record) -> M:
        obj = self.model.from_data(self._stored(record.doc))
        set_version(obj, record.version)
        return obj

    def _load_all(self, records: list[Record]) -> list[M]:
        """``_load`` of each record, with what it looks up each time looked up once: a page
        of documents is the hot path of every list."""
        if self.spec.scoped_unique:
            return [self._load(r) for r in records]
        from_data = self.model.from_data
        out = []
        for record in records:
            obj = from_data(record.doc)
            set_version(obj, record.version)
            out.append(obj)
        return out

    def _stored(self, doc: Document) -> Document:
        """A stored document without the keys the store keeps for scoped-unique fields."""
        if self.spec.scoped_unique:
            return {k: v for k, v in doc.items() if not k.startswith(SCOPED_UNIQUE_PREFIX)}
        return doc

    def _order(self, order_by: Sequence[str] | str) -> tuple[Order, ...]:
        """``parse_order`` once per ordering (a list of fields and the primary key)."""
        key = order_by if isinstance(order_by, str) else tuple(order_by)
        order = self._orders.get(key)
        if order is None:
            order = parse_order(self.model, order_by)
            if len(self._orders) >= _ORDERS_KEPT:
                self._orders.clear()
            self._orders[key] = order
        return order

    def _wire_pk(self, pk: Any) -> Any:
        target = resolve(self.model, [self.spec.pk])
        try:
            return target.dump(target.load(pk, [self.spec.pk]))
        except QueryError as exc:
            raise ValidationError(exc.errors) from None

    def _scoped_fields(self) -> set[str]:
        return {n for _, name, scope in self.spec.scoped_unique for n in (name, *scope)}

    def _projection(self, fields: Sequence[str] | None) -> set[str] | None:
        if fields is None:
            return None
        for name in fields:
            resolve(self.model, [name], loc="fields")
        return {*fields, self.spec.pk}


def _where_node(coll: Collection[Any], where: Q | Node | Mapping[str, Any] | None) -> Node | None:
    if where is None:
        return None
    if isinstance(where, Mapping):
        return coll.where(**where)
    return coll.where(where)


def _scoped_key(scope: list[Any], value: Any) -> str:
    """One text value that is equal exactly when the scope and the value both are."""
    return json.dumps([*scope, value], separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _keyset(order: Sequence[Order]) -> bool:
    """Keyset cursors compare with ``gt``/``lt``, which never cross types: every ordered value
    must have one type (not ``Any``, not a union of several types)."""
    return all(
        o.target.kind == "scalar" and o.target.converter.python_type is not None for o in order
    )


def _check_window(limit: int | None, offset: int, cursor: str | None) -> None:
    if limit is not None and limit < 0:
        raise QueryError.single(["limit"], "limit must be a non-negative integer", "limit")
    if offset < 0:
        raise QueryError.single(["offset"], "offset must be a non-negative integer", "offset")
    if cursor is not None and offset:
        raise QueryError.single(["offset"], "use either a cursor or an offset, not both", "cursor")


def _stale(spec: CollectionSpec, pk: Any, expected: int, actual: int) -> Conflict:
    return Conflict(
        f"{spec.name} {pk!r} is at version {actual}, not {expected}: "
        "it changed since you read it; read it again and retry"
    )
