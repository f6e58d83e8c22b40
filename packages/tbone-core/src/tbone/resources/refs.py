"""References between resources: checked on write, embedded on read (``?expand=``).

A field typed ``Ref[Author]`` is served by the API's resource of ``Author`` (the first one
registered for that model). Both directions see the referenced objects **as the caller may**:
that resource's ``scope``, its ``detail`` permission on each object, and its ``serialize``.

- On write, a reference to an object that does not exist and one to an object the caller may
  not see get the same 422, so a reference cannot be used to probe for objects.
- ``expand`` embeds referenced objects in place of their keys (``null`` for one the caller
  may not see), fetching each relation of a page with one query (``pk__in``), whatever the
  page size, level by level for dotted paths (``author.publisher``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..data import Model, fields_of
from ..data.ref import RefField, references_of
from ..errors import ErrorDetail, QueryError, TBoneError, ValidationError
from ..storage import Q
from .context import Context

if TYPE_CHECKING:
    from .resource import Resource

__all__ = [
    "MAX_EXPANDED",
    "MAX_EXPAND_DEPTH",
    "MAX_EXPAND_PATHS",
    "ExpandTree",
    "Resolver",
    "check_references",
    "expand",
    "expand_paths",
    "expandable",
    "no_resolver",
    "parse_expand",
    "visible",
]

#: finds the resource serving a model (the API's registry), or None
Resolver = Callable[[type[Model]], "Resource[Any] | None"]
#: ``{"author": {"publisher": {}}}`` for ``expand=author.publisher``
ExpandTree = dict[str, "ExpandTree"]

MAX_EXPAND_DEPTH = 3
MAX_EXPAND_PATHS = 10
#: how many distinct objects one relation of one page may embed, and how many distinct keys
#: one reference field of one write may name
MAX_EXPANDED = 1000


def no_resolver(model: type[Model]) -> Resource[Any] | None:
    """The resolver of a resource used without an API: no reference is checked or expanded."""
    return None


# -- checking writes ---------------------------------------------------------------------------


async def check_references(
    source: Resource[Any],
    objs: Sequence[Model],
    ctx: Context,
    before: Sequence[Model | None] = (),
    *,
    indexed: bool = False,
) -> None:
    """Raise one ``ValidationError`` locating every reference in ``objs`` to an object the
    caller may not see or that does not exist (one query per reference field). A reference
    ``before`` already held (the stored object, for updates) is not checked again: it is not
    the caller's to answer for. ``indexed`` prefixes locations with each object's index."""
    if not objs:
        return
    errors: list[ErrorDetail] = []
    for ref in references_of(type(objs[0])).values():
        target = source.defaults.resource_for(ref.target)
        if target is None:
            continue
        wanted = _new_keys(ref, objs, before)
        if not wanted:
            continue
        keys = {k for pairs in wanted.values() for _, k in pairs}
        if len(keys) > MAX_EXPANDED:  # one bounded query per field, on every store
            raise ValidationError.single(
                [ref.name],
                f"at most {MAX_EXPANDED} distinct {target.name} keys per request, got {len(keys)}",
                "too_many_references",
            )
        found, _ = await visible(source, target, keys, ctx)
        for index, pairs in wanted.items():
            prefix: list[str | int] = [index] if indexed else []
            errors.extend(
                _missing(target, [*prefix, *loc]) for loc, key in pairs if key not in found
            )
    if errors:
        raise ValidationError(errors)


def _new_keys(
    ref: RefField, objs: Sequence[Model], before: Sequence[Model | None]
) -> dict[int, list[tuple[list[str | int], Any]]]:
    """Per object index, the (location, key) pairs of ``ref`` the object did not hold before."""
    wanted: dict[int, list[tuple[list[str | int], Any]]] = {}
    for index, obj in enumerate(objs):
        previous = before[index] if index < len(before) else None
        held = set(ref.keys(previous)) if previous is not None else set()
        keys = ref.keys(obj)
        locs: list[list[str | int]] = (
            [[ref.name, i] for i in range(len(keys))] if ref.many else [[ref.name]] * len(keys)
        )
        pairs = [(loc, key) for loc, key in zip(locs, keys, strict=True) if key not in held]
        if pairs:
            wanted[index] = pairs
    return wanted


def _missing(target: Resource[Any], loc: list[str | int]) -> ErrorDetail:
    # the same words for a missing object and a hidden one: no existence oracle
    return {
        "loc": loc,
        "msg": f"refers to no {target.name} object you may see (by its {target.pk})",
        "type": "reference",
    }


async def visible(
    source: Resource[Any], target: Resource[Any], keys: Iterable[Any], ctx: Context
) -> tuple[dict[Any, Model], Context | None]:
    """The objects of ``target`` with these keys that ``ctx``'s caller may see, by key, in one
    query; and the context ``target`` sees the caller with (None: the caller may see none)."""
    keys = list(dict.fromkeys(keys))
    seen = await _context_for(source, target, ctx)
    if seen is None or not keys:
        return {}, seen
    try:
        await target.authorize(seen, "detail")
    except TBoneError:
        return {}, None
    where = [Q(**{f"{target.pk}__in": keys})]
    scope = target.scope_node(seen)
    page = await target.collection.find(*where, *([scope] if scope is not None else []))
    found: dict[Any, Model] = {}
    for obj in page.items:
        try:
            await target.authorize(seen, "detail", obj)
        except TBoneError:
            continue
        found[getattr(obj, target.pk)] = obj
    return found, seen


async def _context_for(
    source: Resource[Any], target: Resource[Any], ctx: Context
) -> Context | None:
    """The caller as ``target`` knows it: ``ctx`` when both resources authenticate the same
    way (or the call comes from Python), else a new context from the same request."""
    authenticator = target.active_authenticator()
    if ctx.request is None or authenticator is source.active_authenticator():
        return ctx
    try:
        return await target.context(ctx.request, ctx.via)
    except TBoneError:  # its authenticator refuses these credentials: it shows nothing
        return None


# -- expand --------------------------------------------------------------------------------------


def parse_expand(resource: Resource[Any], given: Any) -> ExpandTree:
    """``author,editors.publisher`` (or a list of paths, from a WebSocket frame) as a tree;
    ``QueryError`` (400) for a path that names no reference field the caller may read, one
    too deep, or too many paths."""
    if given is None:
        return {}
    raw = given.split(",") if isinstance(given, str) else given
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise _expand_error("expand is a comma-separated text or a list of texts")
    paths = [p.strip() for p in raw if p.strip()]
    if len(paths) > MAX_EXPAND_PATHS:
        raise _expand_error(f"expand takes at most {MAX_EXPAND_PATHS} paths")
    tree: ExpandTree = {}
    for path in paths:
        parts = path.split(".")
        if len(parts) > MAX_EXPAND_DEPTH:
            raise _expand_error(f"expand paths go at most {MAX_EXPAND_DEPTH} references deep")
        _add_path(resource, parts, tree, path)
    return tree


def _add_path(resource: Resource[Any], parts: list[str], tree: ExpandTree, path: str) -> None:
    current: Resource[Any] = resource
    node = tree
    for name in parts:
        ref = expandable(current).get(name)
        if ref is None:
            allowed = ", ".join(expand_paths(resource)) or "none"
            shown = path if len(path) <= 80 else path[:80] + "..."
            raise _expand_error(f"cannot expand {shown!r}; allowed: {allowed}")
        current = ref[1]
        node = node.setdefault(name, {})


def expandable(resource: Resource[Any]) -> dict[str, tuple[RefField, Resource[Any]]]:
    """The reference fields of ``resource`` that clients may expand, with their resources."""
    resolve = resource.defaults.resource_for
    hidden = resource.rules.private | _write_only(resource)
    found = {}
    for name, ref in references_of(resource.model).items():
        target = resolve(ref.target)
        if target is not None and name not in hidden:
            found[name] = (ref, target)
    return found


def expand_paths(resource: Resource[Any], depth: int = MAX_EXPAND_DEPTH) -> list[str]:
    """Every path ``expand`` accepts on ``resource`` (for errors and OpenAPI), at most 100."""
    paths: list[str] = []
    level = [("", resource)]
    for _ in range(depth):
        following = []
        for prefix, current in level:
            for name, (_, target) in sorted(expandable(current).items()):
                paths.append(prefix + name)
                following.append((f"{prefix}{name}.", target))
        level = following[:100]
    return paths[:100]


async def expand(
    resource: Resource[Any],
    objs: Sequence[Model],
    data: Sequence[dict[str, Any]],
    tree: Mapping[str, Any],
    ctx: Context,
) -> None:
    """Replace, in each serialized ``data[i]`` of ``objs[i]``, the keys of the ``tree``'s
    reference fields by the objects as the caller may see them (``None`` when it may not):
    one query per relation for the whole page, then the same for the embedded objects."""
    fields = expandable(resource)
    for name, subtree in tree.items():
        ref, target = fields[name]
        keys = {k for obj in objs for k in ref.keys(obj)}
        if len(keys) > MAX_EXPANDED:
            raise _expand_error(
                f"expanding {name} would embed {len(keys)} objects, more than {MAX_EXPANDED}; "
                "ask for a smaller page (limit=)"
            )
        found, seen = await visible(resource, target, keys, ctx)
        shown = {k: target.serialize(o, seen) for k, o in found.items()} if seen else {}
        if subtree and shown and seen is not None:
            await expand(target, list(found.values()), list(shown.values()), subtree, seen)
        for obj, out in zip(objs, data, strict=True):
            value = getattr(obj, name)
            if ref.many:
                out[name] = [shown.get(k) for k in ref.keys(obj)]
            else:
                out[name] = None if value is None else shown.get(value)


def _write_only(resource: Resource[Any]) -> set[str]:
    return {n for n, f in fields_of(resource.model).items() if f.options.write_only}


def _expand_error(msg: str) -> QueryError:
    return QueryError.single(["expand"], msg, "expand")
