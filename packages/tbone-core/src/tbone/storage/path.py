"""Paths into documents: what ``author.name`` or ``tags`` holds, and how to type a value for it.

A :class:`Target` is a field path resolved against a model once, when a query is compiled. It
carries a converter *without* the field's constraints: ``year__lt=3001`` is a fine question about
a field declared with ``le=3000``, and ``title__contains="Du"`` about one with ``min_length=3``.
"""

from __future__ import annotations

import functools
import operator
import types
import typing
from collections.abc import Sequence
from typing import Any, Literal

import attrs

from tbone.data import Converter, Model, fields_of, pk_of
from tbone.data._invalid import Invalid
from tbone.data.convert import Builder
from tbone.errors import QueryError

__all__ = ["Kind", "Target", "resolve", "split_key"]

Kind = Literal["scalar", "list", "object", "model", "any"]
"""What a path holds: a single value, a list/set, a dict, a nested model, or untyped data."""

_BARE_CACHE = "__tbone_bare_converters__"
_TARGET_CACHE = "__tbone_targets__"


@attrs.frozen(eq=False)
class Target:
    """A resolved field path and the bare converter of the value it holds."""

    path: tuple[str, ...]
    kind: Kind
    converter: Converter = attrs.field(repr=False)

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    @property
    def item(self) -> Converter:
        """The converter of one element of a list, or of the value itself otherwise."""
        if self.kind == "list" and self.converter.item is not None:
            return self.converter.item
        return self.converter

    def load(self, value: Any, loc: Sequence[str | int] = ()) -> Any:
        """Type one value for this path; raise :class:`QueryError` located at ``loc``."""
        return _load(self.converter, value, loc)

    def load_item(self, value: Any, loc: Sequence[str | int] = ()) -> Any:
        return _load(self.item, value, loc)

    def dump(self, value: Any) -> Any:
        """The JSON-ready form of a native value of this path (what stores persist)."""
        return _dump(self.converter, value)

    def dump_item(self, value: Any) -> Any:
        return _dump(self.item, value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Target) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)


def _load(conv: Converter, value: Any, loc: Sequence[str | int]) -> Any:
    try:
        return conv.load(value)
    except Invalid as exc:
        raise QueryError([{**e, "loc": [*loc, *e["loc"]]} for e in exc.errors]) from None


def _dump(conv: Converter, value: Any) -> Any:
    return value if conv.dump is None or value is None else conv.dump(value)


def split_key(key: str, lookups: Sequence[str]) -> tuple[list[str], str | None]:
    """``"author__name__in"`` -> ``(["author", "name"], "in")``; dots also separate fields."""
    parts = [p for chunk in key.split("__") for p in chunk.split(".")]
    if len(parts) > 1 and parts[-1] in lookups:
        return parts[:-1], parts[-1]
    return parts, None


def resolve(model: type[Model], parts: Sequence[str], *, loc: str | None = None) -> Target:
    """Resolve a field path against ``model``; unknown fields raise :class:`QueryError`."""
    key = tuple(parts)
    # Resolved once per model and path (every request resolves its primary key, at least).
    cache: dict[tuple[str, ...], Target] | None = model.__dict__.get(_TARGET_CACHE)
    if cache is not None and key in cache:
        return cache[key]
    where = loc if loc is not None else "__".join(parts)
    tp: Any = model
    for depth, name in enumerate(parts):
        tp = _step(tp, name, parts[:depth], where)
    target = Target(key, _kind(tp), _bare_converter(model, key, tp))
    if cache is None:
        cache = {}
        setattr(model, _TARGET_CACHE, cache)
    cache[key] = target
    return target


def _step(tp: Any, name: str, before: Sequence[str], where: str) -> Any:
    inner = _strip(tp)
    members = _union_members(inner)
    if members:
        return _union_step(members, name, before, where)
    if isinstance(inner, type) and issubclass(inner, Model):
        fields = fields_of(inner)
        if name not in fields:
            _unknown_field(name, before, sorted(fields), where)
        return fields[name].type
    origin = typing.get_origin(inner)
    if inner is Any or inner is object:
        return Any
    if origin is dict or inner is dict:
        args = typing.get_args(inner)
        return args[1] if args else Any
    what = "a list" if origin in (list, set, frozenset, tuple) else "a single value"
    field = ".".join(before)
    raise QueryError.single(
        [where],
        f"cannot look inside '{field}': it holds {what}"
        + (" (use __contains to test membership)" if what == "a list" else ""),
        "query_path",
    )


def _union_members(tp: Any) -> list[type[Model]]:
    """The members of a union of models (``Cat | Dog``, ``None`` aside), else ``[]``."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return []
    members = [a for a in typing.get_args(tp) if a is not type(None)]
    if all(isinstance(m, type) and issubclass(m, Model) for m in members):
        return members
    return []


def _union_step(members: list[type[Model]], name: str, before: Sequence[str], where: str) -> Any:
    """A field of a union: valid when at least one member has it; typed by all that do."""
    found = {m: fields_of(m)[name].type for m in members if name in fields_of(m)}
    if not found:
        allowed = sorted({f for m in members for f in fields_of(m)})
        _unknown_field(name, before, allowed, where)
    common = _common_type(list(found.values()))
    if common is None:
        shown = ", ".join(f"{_type_name(t)} in {m.__name__}" for m, t in found.items())
        raise QueryError.single(
            [where],
            f"'{'.'.join([*before, name])}' has a different type in each member of the union "
            f"({shown}); only fields the members declare alike can be queried",
            "query_path",
        )
    return common


def _common_type(found: list[Any]) -> Any:
    """The one type of a field that several union members declare, or None if they differ.

    Literals merge (the tag: ``Literal["cat"]`` and ``Literal["dog"]``); ``X`` and
    ``X | None`` give ``X | None``."""
    bare = [_bare(t) for t in found]
    if all(typing.get_origin(t) is typing.Literal for t in bare):
        values = tuple(dict.fromkeys(v for t in bare for v in typing.get_args(t)))
        return Literal[values]
    if all(t == bare[0] for t in bare):
        return bare[0]
    cores = {_without_none(t) for t in bare}
    if len(cores) == 1:
        return cores.pop() | None
    return None


def _without_none(tp: Any) -> Any:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(tp) if a is not type(None)]
        return functools.reduce(operator.or_, rest)
    return tp


def _type_name(tp: Any) -> str:
    return tp.__name__ if isinstance(tp, type) else repr(tp).replace("typing.", "")


def _unknown_field(name: str, before: Sequence[str], allowed: list[str], where: str) -> None:
    full = ".".join([*before, name])
    raise QueryError.single(
        [where], f"unknown field '{full}'; allowed: {', '.join(allowed)}", "unknown_field"
    )


def _strip(tp: Any) -> Any:
    """The type without ``Annotated`` metadata and without ``None`` in a union."""
    if typing.get_origin(tp) is typing.Annotated:
        return _strip(typing.get_args(tp)[0])
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(members) == 1:
            return _strip(members[0])
    return tp


def _bare(tp: Any) -> Any:
    """The type with every ``Annotated`` constraint removed, at any depth."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _bare(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return functools.reduce(operator.or_, [_bare(a) for a in typing.get_args(tp)])
    if origin in (list, set, frozenset, dict, tuple):
        return origin[tuple(_bare(a) for a in typing.get_args(tp))]
    return tp


def _kind(tp: Any) -> Kind:
    inner = _strip(tp)
    if inner is Any or inner is object:
        return "any"
    if (isinstance(inner, type) and issubclass(inner, Model)) or _union_members(inner):
        return "model"
    origin = typing.get_origin(inner) or inner
    if origin in (list, set, frozenset, tuple):
        return "list"
    if origin is dict:
        return "object"
    return "scalar"


def _bare_converter(model: type[Model], path: tuple[str, ...], tp: Any) -> Converter:
    # Cached on the model class, like its codec: no module-level cache outlives the class.
    cache: dict[tuple[str, ...], Converter] | None = model.__dict__.get(_BARE_CACHE)
    if cache is None:
        cache = {}
        setattr(model, _BARE_CACHE, cache)
    conv = cache.get(path)
    if conv is None:
        conv = cache[path] = _builder().build(_bare(tp))
    return conv


def _builder() -> Builder:
    # The ODM's own converter factory, so query values convert exactly as field values do.
    from tbone.data.model import _is_model, _model_converter

    return Builder(_model_converter, _is_model)


def pk_target(model: type[Model]) -> Target:
    """The target of the model's primary key."""
    return resolve(model, [pk_of(model)])
