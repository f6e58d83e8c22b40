"""Writes beyond the CRUD path: atomic operators behind ``Resource.update``, and the helpers
custom actions write with (stored and announced, no permission checked again)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ..data import Model, version_of
from ..errors import Conflict, NotFound, PreconditionFailed, ValidationError
from ..storage.query import Filter, Search
from .refs import check_references

if TYPE_CHECKING:
    from .context import Context
    from .resource import Precondition, Resource

__all__ = ["announced_change", "announced_removal", "update_with_ops"]

M = TypeVar("M", bound=Model)
Ops = Mapping[str, Mapping[str, Any] | None]


async def update_with_ops(
    resource: Resource[M],
    pk: Any,
    data: Mapping[str, Any] | None,
    ctx: Context,
    ops: Ops,
    expect_version: int | None,
    if_match: Precondition[M] | None,
) -> M:
    """``Resource.update`` with atomic operators: the checks and hooks of a PATCH, then one
    atomic store step (``Collection.update_ops``)."""
    await resource.authorize(ctx, "update")
    current = await resource._current(pk, ctx, if_match)
    await resource.authorize(ctx, "update", current)
    resource._check_pk(data or {}, current)
    changes = resource.clean_input(data or {})
    await resource.before_update(ctx, current, changes)
    _refuse_scoped(resource, ctx, [*changes, *(k for v in ops.values() for k in v or {})])
    candidate = resource._merged(current, changes, partial=True)
    await check_references(resource, [candidate], ctx, [current])
    if if_match is not None:
        expect_version = version_of(current)
    try:
        before, obj = await resource.collection.update_ops(
            pk, changes, **ops, expect_version=expect_version
        )
    except Conflict as exc:
        if if_match is None:
            raise
        raise PreconditionFailed(
            "If-Match names no current version of this object; read it again"
        ) from exc
    await resource.after_update(ctx, obj)
    await resource.events(resource, "updated", obj, before)
    return obj


async def announced_change(
    resource: Resource[M],
    pk: Any,
    changes: Mapping[str, Any] | None,
    ops: Ops,
    expect_version: int | None,
) -> M:
    """``Resource.change``: merged and validated, or applied atomically with operators."""
    if any(v is not None for v in ops.values()):
        previous, done = await resource.collection.update_ops(
            pk, changes, **ops, expect_version=expect_version
        )
        await resource.events(resource, "updated", done, previous)
        return done
    given = changes or {}
    before: list[M] = []

    def apply(current: M) -> M:
        before[:] = [current]
        merged: M = resource.model.from_data({**current.to_data(full=True), **given})  # type: ignore[assignment]  # model is M
        return merged

    obj = await resource.collection.merge(pk, apply, expect_version=expect_version)
    await resource.events(resource, "updated", obj, before[0] if before else None)
    return obj


async def announced_removal(resource: Resource[Any], pk: Any, expect_version: int | None) -> None:
    """``Resource.remove``: deleted and announced with its last data."""
    obj = await resource.collection.get(pk)
    if obj is None:
        raise NotFound(f"no {resource.name} object has {resource.pk} {pk!r}")
    await resource.collection.delete(pk, expect_version=expect_version)
    await resource.events(resource, "deleted", obj)


def _refuse_scoped(resource: Resource[Any], ctx: Context, fields: Collection[str]) -> None:
    """Atomic operators cannot be checked against the scope before the store applies them:
    refuse them on the fields the scope reads."""
    read = _node_fields(resource.scope_node(ctx))
    touched = sorted(read & {f.split(".")[0] for f in fields})
    if touched:
        raise ValidationError.single(
            [touched[0]],
            f"{resource.name}'s scope reads {touched[0]!r}: change it without atomic operators",
            "scoped_field",
        )


def _node_fields(node: Any) -> set[str]:
    if node is None:
        return set()
    if isinstance(node, Filter):
        return {str(node.target.path[0])}
    if isinstance(node, Search):
        return {str(t.path[0]) for t in node.targets}
    children = getattr(node, "children", None) or [getattr(node, "child", None)]
    return set().union(*(_node_fields(c) for c in children))
