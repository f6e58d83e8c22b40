"""``Resource``: one model exposed as a REST collection, configured by class attributes.

A resource is declared once and served over HTTP, over the WebSocket and to Python callers;
all three run the same methods, so hooks, ``scope`` and permissions apply everywhere::

    class BookResource(Resource):
        model = Book
        name = "books"
        filter_fields = {"author": ["exact", "in"], "year": ["exact", "gte", "lte"]}
        order_fields = ["year", "title"]
        default_order = ["-year"]

        def scope(self, ctx):  # row-level: applied to every read, write and event
            return Q(owner=ctx.user) if ctx.user else None
"""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, TypeVar, cast

import attrs

from ..data import Model, fields_of, pk_of, version_of
from ..data.ref import references_of
from ..errors import (
    ActionNotAllowed,
    Conflict,
    ErrorDetail,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    QueryError,
    TooLarge,
    ValidationError,
)
from ..storage import Node, Q
from ..storage.matcher import matches
from ..storage.params import QueryLimits
from ..storage.query import compile_where
from .action import Action, actions_of, run_action
from .auth import Authenticator, Permission
from .config import check_config
from .context import Context, Via
from .refs import Resolver, check_references, no_resolver, parse_expand
from .refs import expand as expand_references
from .rules import rules_for
from .writes import announced_change, announced_removal, update_with_ops

if TYPE_CHECKING:
    from ..http.message import Request
    from ..storage.collection import Collection as StoreCollection
    from ..storage.store import Store

__all__ = ["ACTIONS", "Defaults", "EventSink", "ListQuery", "ListResult", "Resource"]

M = TypeVar("M", bound=Model)

ACTIONS = ("list", "detail", "create", "replace", "update", "delete")
Event = Literal["created", "updated", "deleted"]
#: a check of the current object before a conditional write (HTTP ``If-Match``)
Precondition = Callable[[M], bool]


class EventSink(Protocol):
    """Where a resource announces committed writes (the API's ``publish``); ``before`` is the
    object as it was before an update."""

    def __call__(
        self, resource: Resource[Any], event: Event, obj: Model, before: Model | None = None
    ) -> Awaitable[None]: ...


@attrs.frozen(kw_only=True)
class Defaults:
    """What a resource uses when it does not set its own: the API's configuration."""

    authenticator: Authenticator | None = None
    permissions: Sequence[Permission] = ()
    query_limits: QueryLimits = attrs.field(factory=QueryLimits)
    #: the resource serving a model, for references (``Ref[Author]``): the API's registry
    resource_for: Resolver = no_resolver
    #: the API, for ``ctx.api`` (hooks that call other resources); parts never reach into it
    owner: Any = None


async def _no_events(
    resource: Resource[Any], event: Event, obj: Model, before: Model | None = None
) -> None:
    """The sink of a resource used without an API: writes are announced to nobody."""


@attrs.frozen(kw_only=True)
class ListQuery:
    """What a list call asks for; HTTP and WebSocket build it from the query string."""

    where: Node | None = None
    order_by: tuple[str, ...] = ()
    limit: int | None = None
    offset: int = 0
    cursor: str | None = None
    fields: tuple[str, ...] | None = None
    search: str | None = None
    #: references to embed when the page is rendered (``parse_expand``); lists ignore it
    expand: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class ListResult(Generic[M]):
    """One page of a list: the objects, the total matching, and where the next page starts."""

    objects: builtins.list[M]
    total_count: int
    limit: int
    offset: int
    next_cursor: str | None


class Resource(Generic[M]):
    """Base class of resources; see the module docstring and docs/resources.md."""

    model: ClassVar[type[Model]]
    #: URL segment and event namespace; defaults to the model name, lower-cased, plus "s"
    name: ClassVar[str]
    #: field path -> lookups allowed in filters (``{"year": ["exact", "gte"]}``)
    filter_fields: ClassVar[Mapping[str, Collection[str]]] = {}
    order_fields: ClassVar[Sequence[str]] = ()
    default_order: ClassVar[Sequence[str]] = ()
    #: fields ``?q=`` searches (case-insensitive, or the store's native text search)
    search_fields: ClassVar[Sequence[str]] = ()
    page_size: ClassVar[int] = 20
    max_page_size: ClassVar[int] = 100
    max_bulk_size: ClassVar[int] = 100
    #: the actions this resource serves; leave some out to make it e.g. read-only
    actions: ClassVar[Collection[str]] = ACTIONS
    #: overrides the API's authenticator / permissions / query limits when set
    authenticator: ClassVar[Authenticator | None] = None
    permissions: ClassVar[Sequence[Permission] | None] = None
    query_limits: ClassVar[QueryLimits | None] = None
    #: the ``@action`` methods by name (filled from the class and its bases)
    custom_actions: ClassVar[Mapping[str, Action]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        model = cls.__dict__.get("model")
        if model is not None and "name" not in cls.__dict__:
            cls.name = model.__name__.lower() + "s"
        cls.custom_actions = actions_of(cls)

    def __init__(
        self, store: Store, *, events: EventSink = _no_events, defaults: Defaults = Defaults()
    ) -> None:
        self.store = store
        self.collection = cast("StoreCollection[M]", store.collection(self.model, self.name))
        self.pk = pk_of(self.model)
        self.events = events
        self.defaults = defaults
        pk_field = fields_of(self.model)[self.pk]
        self._pk_is_text = pk_field.converter.exact == (str,) and pk_field.converter.guard is None
        self.rules = rules_for(self.model)
        #: the fields typed ``Ref[...]``, by name
        self.references = references_of(self.model)

    # -- configuration ------------------------------------------------------------------------

    @classmethod
    def check_config(cls) -> None:
        """Refuse a misconfigured resource when it is registered, naming what is wrong."""
        check_config(cls)

    # -- overridable behaviour ------------------------------------------------------------------

    def scope(self, ctx: Context) -> Q | Mapping[str, Any] | None:
        """A row-level filter applied to every read, write and event for ``ctx``; None for all."""
        return None

    def serialize(
        self, obj: M, ctx: Context, fields: Collection[str] | None = None
    ) -> dict[str, Any]:
        """The object as this context sees it (private and write-only fields never)."""
        return obj.to_data(fields=fields)

    async def before_list(self, ctx: Context, query: ListQuery) -> None:
        """Called before listing; raise ``PermissionDenied`` (or any TBone error) to refuse."""

    async def after_list(self, ctx: Context, result: ListResult[M]) -> None:
        """Called with the page about to be returned."""

    async def before_detail(self, ctx: Context, obj: M) -> None:
        """Called with the object about to be returned."""

    async def before_create(self, ctx: Context, data: dict[str, Any]) -> None:
        """Called with the client's data (read-only fields removed); may change it in place."""

    async def after_create(self, ctx: Context, obj: M) -> None:
        """Called once the object is stored."""

    async def before_replace(self, ctx: Context, current: M, data: dict[str, Any]) -> None:
        """Called with the stored object and the replacement data; may change ``data``."""

    async def after_replace(self, ctx: Context, obj: M) -> None:
        """Called once the replacement is stored."""

    async def before_update(self, ctx: Context, current: M, data: dict[str, Any]) -> None:
        """Called with the stored object and the partial changes; may change ``data``."""

    async def after_update(self, ctx: Context, obj: M) -> None:
        """Called once the update is stored."""

    async def before_delete(self, ctx: Context, obj: M) -> None:
        """Called with the object about to be deleted."""

    async def after_delete(self, ctx: Context, obj: M) -> None:
        """Called once the object is deleted."""

    async def before_action(self, ctx: Context, name: str, obj: M | None, data: Any) -> None:
        """Called before the custom action ``name`` runs (``obj``: a detail action's object,
        ``data``: its validated input); raise to refuse."""

    async def after_action(self, ctx: Context, name: str, result: Any) -> None:
        """Called with what the custom action ``name`` returned."""

    # -- actions ------------------------------------------------------------------------------

    async def list(
        self, query: ListQuery | None = None, ctx: Context | None = None
    ) -> ListResult[M]:
        """A page of objects visible to ``ctx``."""
        ctx = self._context(ctx)
        query = query or ListQuery()
        await self.authorize(ctx, "list")
        await self.before_list(ctx, query)
        limit = self.page_size if query.limit is None else query.limit
        # compiled once for the page and its count (a store may match it once for both)
        node = self.collection.where(
            *(n for n in (query.where, self.scope_node(ctx)) if n is not None),
            search=query.search,
            search_fields=self.search_fields or None,
        )
        where = () if node is None else (node,)
        page = await self.collection.find(
            *where,
            order_by=query.order_by or tuple(self.default_order),
            limit=limit,
            offset=query.offset,
            cursor=query.cursor,
        )
        total = await self.collection.count(*where)
        result = ListResult(
            objects=page.items,
            total_count=total,
            limit=limit,
            offset=query.offset,
            next_cursor=page.next_cursor,
        )
        await self.after_list(ctx, result)
        return result

    async def detail(self, pk: Any, ctx: Context | None = None) -> M:
        """The object with primary key ``pk``; ``NotFound`` if absent or outside the scope."""
        ctx = self._context(ctx)
        await self.authorize(ctx, "detail")
        obj = await self.get_visible(pk, ctx)
        await self.authorize(ctx, "detail", obj)
        await self.before_detail(ctx, obj)
        return obj

    async def create(self, data: Mapping[str, Any], ctx: Context | None = None) -> M:
        """Validate client data into a new object, store it and announce it."""
        ctx = self._context(ctx)
        await self.authorize(ctx, "create")
        obj = await self._new(data, ctx)
        await self._check_references([obj], ctx)
        await self.collection.insert(obj)
        await self._created(ctx, obj)
        return obj

    async def create_many(
        self, items: Sequence[Mapping[str, Any]], ctx: Context | None = None
    ) -> builtins.list[M]:
        """Create several objects: all are validated first, errors located by index."""
        ctx = self._context(ctx)
        await self.authorize(ctx, "create")
        if len(items) > self.max_bulk_size:
            raise TooLarge(
                f"at most {self.max_bulk_size} objects per request", slug="too-many-objects"
            )
        objs: builtins.list[M] = []
        errors: builtins.list[ErrorDetail] = []
        for index, item in enumerate(items):
            try:
                objs.append(await self._new(item, ctx))
            except ValidationError as exc:
                errors.extend({**e, "loc": [index, *e["loc"]]} for e in exc.errors)
        if errors:
            raise ValidationError(errors)
        await self._check_references(objs, ctx, indexed=True)
        await self.collection.insert_many(objs)
        for obj in objs:
            await self._created(ctx, obj)
        return objs

    async def replace(
        self,
        pk: Any,
        data: Mapping[str, Any],
        ctx: Context | None = None,
        *,
        expect_version: int | None = None,
        if_match: Precondition[M] | None = None,
    ) -> M:
        """Replace every client-writable field; read-only and private ones are kept.

        ``expect_version`` names the version the caller read (stale: ``Conflict``);
        ``if_match`` is checked on the current object (false: ``PreconditionFailed``).
        """
        return await self._change("replace", pk, data, ctx, expect_version, if_match)

    async def update(
        self,
        pk: Any,
        data: Mapping[str, Any] | None = None,
        ctx: Context | None = None,
        *,
        inc: Mapping[str, int | float] | None = None,
        push: Mapping[str, Any] | None = None,
        add_to_set: Mapping[str, Any] | None = None,
        pull: Mapping[str, Any] | None = None,
        expect_version: int | None = None,
        if_match: Precondition[M] | None = None,
    ) -> M:
        """Change only the given fields (PATCH); the options are :meth:`replace`'s.

        The atomic operators of :meth:`Collection.update <tbone.storage.Collection.update>`
        (``inc={"stock": -1}``, ``push``, ``add_to_set``, ``pull``) are applied by the store in
        one step, after the same permission checks and hooks; they are for server code (HTTP
        never sends them), so field rules do not apply to them, and they may not change a
        field the resource's ``scope`` reads.
        """
        ops = {"inc": inc, "push": push, "add_to_set": add_to_set, "pull": pull}
        if all(v is None for v in ops.values()):
            # None is not "no changes": a PATCH whose body is JSON null is refused like any
            # body that is not an object
            return await self._change("update", pk, data, ctx, expect_version, if_match)
        return await update_with_ops(
            self, pk, data, self._context(ctx), ops, expect_version, if_match
        )

    async def delete(
        self,
        pk: Any,
        ctx: Context | None = None,
        *,
        expect_version: int | None = None,
        if_match: Precondition[M] | None = None,
    ) -> None:
        """Delete one object and announce it; the options are :meth:`replace`'s."""
        ctx = self._context(ctx)
        await self.authorize(ctx, "delete")
        current = await self._current(pk, ctx, if_match)
        await self.authorize(ctx, "delete", current)
        await self.before_delete(ctx, current)
        expected = version_of(current) if if_match is not None else expect_version
        try:
            await self.collection.delete(pk, expect_version=expected)
        except (Conflict, NotFound) as exc:  # someone else changed or deleted it meanwhile
            if if_match is None:
                raise
            raise _precondition_failed() from exc
        await self.after_delete(ctx, current)
        await self.events(self, "deleted", current)

    async def call(
        self, name: str, pk: Any = None, data: Any = None, ctx: Context | None = None
    ) -> Any:
        """Run the custom action ``name`` as HTTP and the WebSocket do: permissions (the
        action's name is the permission action), the object in scope for a detail action
        (``pk``; ``NotFound`` otherwise), ``data`` validated by its ``input`` model, hooks.

        >>> await api.resource("books").call(
        ...     "publish", book.id, {"at": "2025-01-01"}
        ... )  # doctest: +SKIP
        """
        return await run_action(self, name, pk, data, self._context(ctx))

    async def expanded(
        self, objs: Sequence[M], expand: str | Sequence[str], ctx: Context | None = None
    ) -> builtins.list[dict[str, Any]]:
        """``objs`` as ``ctx`` sees them, with the references ``expand`` names embedded
        (``"author,editors.publisher"``, as HTTP's ``?expand=``); one query per relation.

        >>> page = await books.list(ctx=ctx)  # doctest: +SKIP
        >>> await books.expanded(page.objects, "author", ctx)  # doctest: +SKIP
        """
        ctx = self._context(ctx)
        tree = parse_expand(self, list(expand) if not isinstance(expand, str) else expand)
        data = [self.serialize(o, ctx) for o in objs]
        await expand_references(self, objs, data, tree, ctx)
        return data

    # -- writes for actions: stored and announced, without the CRUD permissions -----------------

    async def insert(self, obj: M) -> M:
        """Store a new object and announce ``created``; for action code, which has been
        authorized already (no permission or hook runs here)."""
        await self.collection.insert(obj)
        await self.events(self, "created", obj)
        return obj

    async def change(
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
        """Merge wire-form ``changes`` into the object's top-level fields, validated as a
        whole, and announce ``updated`` (for action code: no permission or hook runs here).
        The atomic operators (``inc={"stock": -1}``, ``push``, ``add_to_set``, ``pull``) are
        applied by the store in one step, as :meth:`Collection.update_ops` does.

        >>> await self.change(obj.id, {"status": "sold"}, inc={"stock": -1})  # doctest: +SKIP
        """
        ops = {"inc": inc, "push": push, "add_to_set": add_to_set, "pull": pull}
        return await announced_change(self, pk, changes, ops, expect_version)

    async def remove(self, pk: Any, *, expect_version: int | None = None) -> None:
        """Delete the object and announce ``deleted`` (for action code: no permission or
        hook runs here); ``NotFound`` if it is gone."""
        await announced_removal(self, pk, expect_version)

    # -- building blocks ------------------------------------------------------------------------

    async def authorize(self, ctx: Context, action: str, obj: M | None = None) -> None:
        """Raise ``ActionNotAllowed``, ``NotAuthenticated`` or ``PermissionDenied`` unless
        ``ctx`` may perform ``action`` (a CRUD action or a custom action's name)."""
        if action not in self.actions and action not in self.custom_actions:
            raise ActionNotAllowed(f"{self.name} does not support {action}")
        if ctx.trusted:
            return
        for permission in self.active_permissions():
            if not await permission.allows(ctx, action, obj):
                raise self._denied(ctx, action)

    def active_permissions(self) -> Sequence[Permission]:
        return self.permissions if self.permissions is not None else self.defaults.permissions

    def active_authenticator(self) -> Authenticator | None:
        if self.authenticator is not None:
            return self.authenticator
        return self.defaults.authenticator

    def active_query_limits(self) -> QueryLimits:
        if self.query_limits is not None:
            return self.query_limits
        return self.defaults.query_limits

    async def context(self, request: Request | None, via: Via) -> Context:
        """The context of a call made by ``request``, authenticated by this resource's
        authenticator (the API's unless the resource sets its own)."""
        authenticator = self.active_authenticator()
        user = None
        if authenticator is not None and request is not None:
            user = await authenticator.authenticate(request)
        return Context(api=self.defaults.owner, request=request, user=user, via=via)

    def scope_node(self, ctx: Context) -> Node | None:
        """The compiled ``scope(ctx)`` filter."""
        scope = self.scope(ctx)
        if scope is None:
            return None
        if isinstance(scope, Q):
            return compile_where(self.model, scope)
        return compile_where(self.model, **scope)

    def in_scope(self, obj: M, ctx: Context) -> bool:
        return matches(self.scope_node(ctx), obj)

    async def get_visible(self, pk: Any, ctx: Context) -> M:
        """The object if it exists and ``ctx`` may see it; ``NotFound`` otherwise (no leaks)."""
        obj = await self.collection.get(pk)
        if obj is None or not self.in_scope(obj, ctx):
            raise NotFound(f"no {self.name} object has {self.pk} {pk!r}")
        return obj

    def clean_input(self, data: Any) -> dict[str, Any]:
        """Client data minus read-only fields, at every depth; private fields are unknown to
        clients (an error where the model forbids unknown fields, dropped otherwise)."""
        if type(data) is not dict and not isinstance(data, Mapping):  # dict first: ABCs are slow
            raise ValidationError.single([], "expected a JSON object", "model_type")
        return self.rules.clean(data)

    def pk_from_text(self, text: str) -> Any:
        """Type a primary key taken from a URL; ``NotFound`` when it cannot be one."""
        if self._pk_is_text:  # the common case: the segment is the key
            return text
        from ..storage.params import parse_params

        try:
            node = parse_params(self.model, [(self.pk, text)])
        except QueryError:
            raise NotFound(f"no {self.name} object has {self.pk} {text!r}") from None
        return getattr(node, "value", text)

    # -- internals ------------------------------------------------------------------------------

    async def _check_references(
        self,
        objs: Sequence[Model],
        ctx: Context,
        before: Sequence[Model | None] = (),
        *,
        indexed: bool = False,
    ) -> None:
        await check_references(self, objs, ctx, before, indexed=indexed)

    def _context(self, ctx: Context | None) -> Context:
        return ctx if ctx is not None else Context(api=self.defaults.owner, trusted=True)

    def _denied(self, ctx: Context, action: str) -> NotAuthenticated | PermissionDenied:
        if ctx.user is None and self.active_authenticator() is not None:
            return NotAuthenticated()
        return PermissionDenied(f"you may not {action} {self.name}")

    def _check_pk(self, data: Any, current: M) -> None:
        """A body naming another primary key than the URL is refused, not silently ignored."""
        if (type(data) is not dict and not isinstance(data, Mapping)) or self.pk not in data:
            return
        if data[self.pk] != current.to_data(fields={self.pk})[self.pk]:
            raise ValidationError.single(
                [self.pk], "the primary key cannot change; it must match the URL", "pk"
            )

    def _check_scope(self, obj: M, ctx: Context) -> None:
        if not self.in_scope(obj, ctx):
            raise PermissionDenied(
                f"the object would be outside what you may access in {self.name}"
            )

    async def _current(self, pk: Any, ctx: Context, if_match: Precondition[M] | None) -> M:
        """The visible object a write starts from; ``PreconditionFailed`` when ``if_match``
        says it is not the one the client read (a missing object never matches)."""
        try:
            current = await self.get_visible(pk, ctx)
        except NotFound:
            if if_match is None:
                raise
            raise _precondition_failed() from None
        if if_match is not None and not if_match(current):
            raise _precondition_failed()
        return current

    async def _new(self, data: Mapping[str, Any], ctx: Context) -> M:
        clean = self.clean_input(data)
        await self.before_create(ctx, clean)
        obj: M = self.model.from_data(clean)  # type: ignore[assignment]  # model is M
        self._check_scope(obj, ctx)
        await self.authorize(ctx, "create", obj)
        return obj

    async def _change(
        self,
        action: Literal["replace", "update"],
        pk: Any,
        data: Any,  # the decoded body as sent: clean_input refuses what is not an object
        ctx: Context | None,
        expect_version: int | None,
        if_match: Precondition[M] | None,
    ) -> M:
        """PUT and PATCH: the same checks and hooks; PATCH keeps the fields it is not given."""
        ctx = self._context(ctx)
        await self.authorize(ctx, action)
        current = await self._current(pk, ctx, if_match)
        await self.authorize(ctx, action, current)
        self._check_pk(data, current)
        changes = self.clean_input(data)
        before, after = (
            (self.before_replace, self.after_replace)
            if action == "replace"
            else (self.before_update, self.after_update)
        )
        await before(ctx, current, changes)
        partial = action == "update"
        if if_match is not None:
            expect_version = version_of(current)
        if self.references:  # the new keys only: those it held are not the caller's to answer for
            candidate = self._merged(current, changes, partial=partial)
            await self._check_references([candidate], ctx, [current])

        previous = current

        def merge(stored: M) -> M:
            nonlocal previous
            if stored is not current and not self.in_scope(stored, ctx):
                raise NotFound(f"no {self.name} object has {self.pk} {pk!r}")
            previous = stored
            obj = self._merged(stored, changes, partial=partial)
            self._check_scope(obj, ctx)
            return obj

        try:
            obj = await self.collection.merge(
                pk, merge, expect_version=expect_version, current=current
            )
        except Conflict as exc:
            if if_match is None:
                raise
            raise _precondition_failed() from exc
        await after(ctx, obj)
        await self.events(self, "updated", obj, previous)
        return obj

    async def _created(self, ctx: Context, obj: M) -> None:
        await self.after_create(ctx, obj)
        await self.events(self, "created", obj)

    def _merged(self, current: M, changes: dict[str, Any], *, partial: bool) -> M:
        """``changes`` applied to ``current``: all other fields kept when ``partial``, only
        read-only and private ones otherwise (at every depth), validated as a whole."""
        stored = current.to_data(full=True)
        rules = self.rules
        kept = rules.carried | {self.pk}  # the URL names the object: the body need not
        base = stored if partial else {k: stored[k] for k in kept if k in stored}
        merged = rules.carry(stored, base | changes)
        return self.model.from_data(merged)  # type: ignore[return-value]  # model is M


def _precondition_failed() -> PreconditionFailed:
    return PreconditionFailed("If-Match names no current version of this object; read it again")
