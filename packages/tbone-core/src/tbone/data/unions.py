"""Tagged unions: a field typed ``Cat | Dog`` whose members are models told apart by a tag.

Every member declares the same field as a ``Literal`` of strings, different in each member
(``kind: Literal["cat"]`` in ``Cat``, ``kind: Literal["dog"]`` in ``Dog``). Wire data picks its
member by that field's value; errors inside the member keep the member's own paths. The tag is
the first field, in the first member's order, that every member declares with disjoint values.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._invalid import Invalid, describe

if TYPE_CHECKING:  # convert.py imports this module to build unions
    from .convert import Converter

__all__ = [
    "Tagged",
    "find_tag",
    "is_model_union",
    "literal_strings",
    "model_unions",
    "refuse_mixed",
    "tag_of",
    "tagged_parts",
    "tagged_schema",
]

_MISSING: Any = object()


@attrs.frozen(eq=False)
class Tagged:
    """What tells the members of a union apart: the tag field and each value's model."""

    tag: str
    #: tag value -> member model, in declaration order (a member may own several values)
    mapping: Mapping[str, type]

    @property
    def members(self) -> tuple[type, ...]:
        return tuple(dict.fromkeys(self.mapping.values()))

    @property
    def shown(self) -> str:
        return ", ".join(repr(value) for value in self.mapping)


def literal_strings(tp: Any) -> tuple[str, ...] | None:
    """The values of ``Literal["a", "b"]`` (through ``Annotated``), when all are strings."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) is not typing.Literal:
        return None
    values = typing.get_args(tp)
    return values if values and all(type(v) is str for v in values) else None


def is_model_union(tp: Any, is_model: Callable[[Any], bool]) -> bool:
    """Whether ``tp`` is a union naming at least one model (``None`` aside)."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return False
    return any(is_model(a) for a in typing.get_args(tp))


def model_unions(tp: Any, is_model: Callable[[Any], bool]) -> list[list[Any]]:
    """The members (``None`` left out) of every union of models inside ``tp``, at any depth."""
    found: list[list[Any]] = []
    if typing.get_origin(tp) is typing.Annotated:
        return model_unions(typing.get_args(tp)[0], is_model)
    args = typing.get_args(tp)
    if is_model_union(tp, is_model):
        members = [a for a in args if a is not type(None)]
        if len(members) > 1:
            found.append(members)
        return found
    for arg in args:
        found.extend(model_unions(arg, is_model))
    return found


def find_tag(
    members: Sequence[type],
    hints: Sequence[Mapping[str, Any]],
    private: Callable[[type, str], bool],
) -> Tagged:
    """The tag of a union of ``members`` given each one's resolved annotations.

    Raises ``TypeError`` naming what to declare when no field can tell the members apart.
    ``private(model, name)`` says whether a field never crosses the API (it cannot be a tag).
    """
    spelled = " | ".join(m.__name__ for m in members)
    tags = [
        {n: v for n, t in h.items() if (v := literal_strings(t)) is not None and not private(m, n)}
        for m, h in zip(members, hints, strict=True)
    ]
    common = [name for name in tags[0] if all(name in t for t in tags[1:])]
    if not common:
        raise TypeError(_no_common_tag(spelled, members, tags))
    for name in common:
        mapping = _mapping(name, members, tags)
        if mapping is not None:
            return Tagged(name, mapping)
    name = common[0]
    clashes = sorted({v for t in tags for v in t[name] if sum(v in u[name] for u in tags) > 1})
    raise TypeError(
        f"{spelled}: the tag field {name!r} has the value(s) {', '.join(map(repr, clashes))} in "
        "more than one member; give each member its own tag value"
    )


def _mapping(
    name: str, members: Sequence[type], tags: Sequence[Mapping[str, tuple[str, ...]]]
) -> dict[str, type] | None:
    mapping: dict[str, type] = {}
    for member, found in zip(members, tags, strict=True):
        for value in found[name]:
            if value in mapping:
                return None
            mapping[value] = member
    return mapping


def tag_of(members: Sequence[type]) -> Tagged:
    """The tag of a union of model classes, from their resolved annotations."""
    # model.py imports convert.py, which builds unions: imported here to break that cycle
    from .model import is_private, resolve_hints

    return find_tag(members, [resolve_hints(m) for m in members], is_private)


def _no_common_tag(
    spelled: str, members: Sequence[type], tags: Sequence[Mapping[str, tuple[str, ...]]]
) -> str:
    declared = "; ".join(
        f"{m.__name__} declares {', '.join(t) if t else 'none'}"
        for m, t in zip(members, tags, strict=True)
    )
    return (
        f"{spelled}: a union of models needs a tag field that every member declares with its "
        f"own Literal string value, e.g. kind: Literal['{members[0].__name__.lower()}'] in "
        f"{members[0].__name__}; Literal string fields: {declared}"
    )


def refuse_mixed(members: Sequence[Any], is_model: Callable[[Any], bool]) -> None:
    """A union naming a model must name only models (and ``None``)."""
    others = [m for m in members if not is_model(m)]
    if others:
        spelled = " | ".join(getattr(m, "__name__", repr(m)) for m in members)
        raise TypeError(
            f"{spelled}: a union with a model may only hold models told apart by a tag field "
            f"(and None); {', '.join(getattr(m, '__name__', repr(m)) for m in others)} is not "
            "a model"
        )


def tagged_parts(
    tagged: Tagged, convs: Mapping[type, Converter]
) -> tuple[Callable[[Any], Any], Callable[[Any], Any], Callable[[Any], Any]]:
    """``load``, ``dump`` and ``dump_full`` of a tagged union, from each member's converter."""
    by_tag = {value: convs[model].load for value, model in tagged.mapping.items()}
    dumps = {model: _as_is(conv.dump) for model, conv in convs.items()}
    fulls = {model: _as_is(conv.dump_full or conv.dump) for model, conv in convs.items()}
    tag, shown = tagged.tag, tagged.shown

    def load(v: Any) -> Any:
        if type(v) in dumps:
            return v  # already a member (constructed in Python)
        if not isinstance(v, Mapping):
            if isinstance(v, tagged.members):
                return v
            raise Invalid.one(f"expected an object, got {describe(v)}", "model_type")
        value = v.get(tag, _MISSING)
        if value is _MISSING:
            raise Invalid(
                [{"loc": [tag], "msg": f"field required: one of {shown}", "type": "missing"}]
            )
        member_load = by_tag.get(value) if type(value) is str else None
        if member_load is None:
            raise Invalid([{"loc": [tag], "msg": f"must be one of: {shown}", "type": "union_tag"}])
        return member_load(v)

    return load, _dispatch(dumps), _dispatch(fulls)


def _as_is(dump: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    return dump if dump is not None else _identity


def _identity(v: Any) -> Any:
    return v


def _dispatch(by_type: Mapping[type, Callable[[Any], Any]]) -> Callable[[Any], Any]:
    def dump(v: Any) -> Any:
        fn = by_type.get(type(v))
        if fn is None:
            fn = next((f for t, f in by_type.items() if isinstance(v, t)), None)
        return v if fn is None else fn(v)

    return dump


def tagged_schema(tagged: Tagged, schemas: Mapping[type, dict[str, Any]]) -> dict[str, Any]:
    """``oneOf`` the member schemas, with an OpenAPI ``discriminator`` naming each tag."""
    refs = {model: schema.get("$ref") for model, schema in schemas.items()}
    discriminator: dict[str, Any] = {"propertyName": tagged.tag}
    if all(isinstance(r, str) for r in refs.values()):
        discriminator["mapping"] = {value: refs[model] for value, model in tagged.mapping.items()}
    # "required" here too: a member defaulting its tag does not list it, but the union must
    # see it (and the schema must not accept what validation refuses)
    return {
        "oneOf": [schemas[m] for m in tagged.members],
        "discriminator": discriminator,
        "required": [tagged.tag],
    }
