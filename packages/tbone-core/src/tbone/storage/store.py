"""``Store``: the contract every storage backend implements.

A store keeps JSON-ready documents (``Model.to_data(full=True)``), each with an integer
version, in named collections. Four methods are required; everything else has a default built
on them that a backend may override with something native and faster::

    class CouchStore(Store):
        tbone_plugin_api = 1
        capabilities = frozenset({"unique"})

        async def insert_docs(self, spec, docs): ...
        async def find_docs(self, spec, query): ...
        async def replace_doc(self, spec, pk, doc, expect_version): ...
        async def delete_doc(self, spec, pk, expect_version): ...

``update_ops`` (atomic update operators, :mod:`tbone.storage.ops`) has a default built on
``get_docs`` + ``replace_doc`` with a version check, retried when another writer got in first;
stores that apply the operators natively in one step override it and declare ``native_ops``.

Stores raise only :mod:`tbone.errors` exceptions (``DuplicateKey``, ``NotFound``, ``Conflict``,
``StoreUnavailable``), translating driver errors in one place, ``from`` the driver error.
Application code does not call these methods: it uses :meth:`Store.collection`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, TypeVar

import attrs

from tbone.data import Model, fields_of, pk_of
from tbone.errors import Conflict, NotFound, StoreError
from tbone.lifecycle import Lifecycle

from .path import resolve
from .query import Filter, Query

if TYPE_CHECKING:
    from .collection import Collection
    from .ops import UpdateOps

__all__ = ["CAPABILITIES", "Change", "CollectionSpec", "Document", "Record", "Store"]

M = TypeVar("M", bound=Model)

Document = dict[str, Any]
"""A JSON-ready document as ``Model.to_data(full=True)`` gives it."""

CAPABILITIES = frozenset(
    {"transactions", "text_search", "watch", "unique", "atomic_bulk", "native_ops"}
)
"""Capabilities core knows; a store may declare others of its own.

``unique``: enforces ``field(unique=True)``; ``text_search``: evaluates :class:`Search` nodes
natively (others get them rewritten to ``icontains``); ``atomic_bulk``: ``insert_docs`` stores
all documents or none; ``native_ops``: ``update_ops`` applies update operators in one atomic
step (no read + compare-and-swap retries); ``transactions``, ``watch``: see docs/storage.md.
"""


SCOPED_UNIQUE_PREFIX = "_unique_"


@attrs.frozen
class CollectionSpec:
    """What a store needs to know about one collection: its name, model, keys and indexes."""

    name: str
    model: type[Model]
    pk: str
    #: top-level keys a store keeps unique (``None`` never collides)
    unique: tuple[str, ...]
    indexes: tuple[str, ...]
    #: ``field(unique_with=[...])``: (stored key, field, scoping fields). The collection
    #: stores each as one more unique key holding the scoping values and the field's value
    #: together, so every store enforces it with its plain unique support.
    scoped_unique: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    @classmethod
    def of(cls, model: type[Model], name: str | None = None) -> CollectionSpec:
        fields = fields_of(model)
        pk = pk_of(model)
        others = [f for f in fields.values() if f.name != pk]
        scoped = tuple(
            (f"{SCOPED_UNIQUE_PREFIX}{f.name}", f.name, f.options.unique_with)
            for f in others
            if f.options.unique_with
        )
        for _, field_name, scope in scoped:
            unknown = [n for n in scope if n not in fields]
            if unknown:
                raise TypeError(
                    f"{model.__name__}.{field_name}: unique_with names unknown fields {unknown}"
                )
        return cls(
            name=name or model.__name__.lower(),
            model=model,
            pk=pk,
            unique=tuple(f.name for f in others if f.options.unique and not f.options.unique_with)
            + tuple(key for key, _, _ in scoped),
            indexes=tuple(f.name for f in others if f.options.index),
            scoped_unique=scoped,
        )


@attrs.frozen
class Record:
    """A stored document and its version (1 when inserted, +1 on every write)."""

    doc: Document
    version: int


@attrs.frozen
class Change:
    """One committed change reported by a store with the ``watch`` capability.

    ``collection`` is the TBone collection name; ``op`` ``created``, ``updated`` or
    ``deleted``; ``pk`` the primary key in wire form; ``doc`` the document after the change
    (``None`` for deletes, and for updates of a document deleted since); ``version`` its
    version; ``before`` the document before the change where the store keeps it; ``token`` an
    opaque position to resume after (``watch(..., resume_after=token)``).
    """

    collection: str
    op: Literal["created", "updated", "deleted"]
    pk: Any
    doc: Document | None
    version: int | None
    before: Document | None
    token: Any


class Store(Lifecycle, ABC):
    """Base class of stores: four required methods, conveniences, and the async lifecycle."""

    capabilities: ClassVar[frozenset[str]] = frozenset()
    closed: bool = False

    # -- required --------------------------------------------------------------------------

    @abstractmethod
    async def insert_docs(self, spec: CollectionSpec, docs: Sequence[Document]) -> None:
        """Store new documents at version 1.

        Raise ``DuplicateKey(field=...)`` when a primary key or unique value (ignoring ``None``)
        is taken, by a stored document or by another one of ``docs``.
        """

    @abstractmethod
    async def find_docs(self, spec: CollectionSpec, query: Query) -> list[Record]:
        """The documents matching ``query.where``, sorted, windowed and projected.

        Semantics are those of :func:`tbone.storage.matches` and :func:`sort_records`.
        """

    @abstractmethod
    async def replace_doc(
        self, spec: CollectionSpec, pk: Any, doc: Document, expect_version: int | None
    ) -> int:
        """Replace the document whose primary key is ``pk`` (wire form); return its new version.

        Raise ``NotFound`` if there is none, ``Conflict`` if ``expect_version`` is given and is
        not the stored version (checked atomically with the write), ``DuplicateKey`` as above.
        """

    @abstractmethod
    async def delete_doc(self, spec: CollectionSpec, pk: Any, expect_version: int | None) -> None:
        """Delete one document; ``NotFound`` / ``Conflict`` as for :meth:`replace_doc`."""

    # -- conveniences with defaults ----------------------------------------------------------

    async def get_docs(self, spec: CollectionSpec, pks: Sequence[Any]) -> list[Record]:
        """The documents with these primary keys (wire form), missing ones left out."""
        target = resolve(spec.model, [spec.pk])
        native = tuple(target.load(pk) for pk in pks)
        return await self.find_docs(spec, Query(where=Filter(target, "in", native)))

    async def count_docs(self, spec: CollectionSpec, query: Query) -> int:
        """How many documents match ``query.where`` (order, window and projection ignored)."""
        found = await self.find_docs(spec, Query(where=query.where, fields=frozenset({spec.pk})))
        return len(found)

    async def delete_where(self, spec: CollectionSpec, query: Query) -> int:
        """Delete every document matching ``query.where``; return how many were deleted."""
        deleted = 0
        for record in await self.find_docs(spec, Query(where=query.where)):
            try:
                await self.delete_doc(spec, record.doc[spec.pk], None)
            except NotFound:  # deleted concurrently: it is gone either way
                continue
            deleted += 1
        return deleted

    async def update_ops(
        self, spec: CollectionSpec, pk: Any, ops: UpdateOps, expect_version: int | None
    ) -> tuple[Record, Record]:
        """Apply update operators to one document atomically; return it before and after.

        Raise ``NotFound``, ``Conflict`` (stale ``expect_version``), ``DuplicateKey``, or
        ``ValidationError`` when a limit of ``ops`` fails (a bound, a length, a path holding no
        number or list; see :func:`tbone.storage.ops.apply_ops`): then nothing is written.

        This default reads the document, applies the operators in Python and writes the result
        only if the document is still at the version read, retrying when it was not.
        """
        # imported here: ops -> matcher -> cursor -> this module
        from .ops import SWAP_ATTEMPTS, apply_ops, backoff

        for attempt in range(SWAP_ATTEMPTS):
            found = await self.get_docs(spec, [pk])
            if not found:
                raise NotFound(f"no {spec.name} document has {spec.pk} {pk!r}")
            before = found[0]
            if expect_version is not None and before.version != expect_version:
                raise Conflict(
                    f"{spec.name} {pk!r} is at version {before.version}, not {expect_version}: "
                    "it changed since you read it; read it again and retry"
                )
            doc = apply_ops(before.doc, ops)
            try:
                version = await self.replace_doc(spec, pk, doc, before.version)
            except Conflict:
                if expect_version is not None:
                    raise
                await backoff(attempt)
                continue
            return before, Record(doc, version)
        raise Conflict(f"{spec.name} {pk!r} kept changing; gave up after {SWAP_ATTEMPTS} tries")

    async def prepare(self, spec: CollectionSpec) -> None:
        """Create tables, indexes and constraints for ``spec``; called once before first use."""

    async def open(self) -> None:
        """Connect; called by ``async with store``. Stores usable without it may skip it."""

    async def aclose(self) -> None:
        """Release connections; afterwards every operation raises ``StoreUnavailable``."""
        self.closed = True

    @classmethod
    def from_url(cls, url: str) -> Self:
        """Build a store from its URL (``tbone.connect`` calls this); default ``cls(url)``."""
        return cls(url)  # type: ignore[call-arg]  # stores taking a URL override or accept it

    # -- the public face ------------------------------------------------------------------------

    def collection(self, model: type[M], name: str | None = None) -> Collection[M]:
        """The typed collection of ``model`` documents (named ``model.__name__.lower()``)."""
        from .collection import Collection

        return Collection(self, CollectionSpec.of(model, name))

    def supports(self, capability: str) -> bool:
        return capability in self.capabilities

    def watch(
        self, specs: Sequence[CollectionSpec], *, resume_after: Any = None
    ) -> AsyncIterator[Change]:
        """Every committed change to the collections of ``specs``, by any program, in commit
        order, resuming after ``resume_after`` (a :attr:`Change.token`); stores with the
        ``watch`` capability implement it (MongoDB change streams). The API then takes the
        events of those collections from here, in every process, instead of its channel.
        """
        raise StoreError(f"{type(self).__name__} does not have the 'watch' capability")

    async def ensure_prepared(self, spec: CollectionSpec) -> None:
        """Run :meth:`prepare` for ``spec`` once per store and collection name."""
        prepared: dict[str, CollectionSpec] = self.__dict__.setdefault("_tbone_prepared", {})
        known = prepared.get(spec.name)
        # identity first: this runs before every operation, and the specs are usually the same
        if known is not spec and known != spec:
            await self.prepare(spec)
            prepared[spec.name] = spec
