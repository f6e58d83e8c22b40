"""``Ref[Author]``: a field holding the primary key of an object of another model.

::

    class Book(Model):
        title: str
        author: Ref[Author]  # on the wire: the author's key, e.g. "3f2a..."
        editors: list[Ref[Author]] = field(factory=list)
        translator: Ref[Author] | None = None

The field validates, stores and crosses the wire exactly as the target's primary key does; its
JSON Schema is the key's, with ``"x-tbone-ref": "Author"`` naming the target model. An API
serving both models checks on every write that each reference names an object the caller may
see, and embeds referenced objects on request (``?expand=author``): see docs/beyond-crud.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from .constraints import Constraints
from .convert import Builder, Converter
from .fields import options_of
from .model import Model, _resolve_hints, fields_of, pk_of

__all__ = ["Ref", "RefField", "RefTo", "references_of"]

M = TypeVar("M")
#: the JSON Schema keyword naming the model a reference points to
SCHEMA_KEY = "x-tbone-ref"


@attrs.frozen
class RefTo:
    """The ``Annotated`` marker ``Ref[X]`` stands for: "a primary key of an ``X``"."""

    model: type[Model]

    def __tbone_build__(self, builder: Builder, constraints: Constraints | None) -> Converter:
        """The target's primary-key converter (its type and constraints), marked as a
        reference; called by the converter builder, which knows ``Annotated`` markers with
        this method build their own converter."""
        target = self.model
        pk = pk_of(target)
        attribute = attrs.fields_dict(typing.cast(Any, target))[pk]
        own = options_of(attribute).constraints
        merged = own if constraints is None else own.merge(constraints)
        hint = _resolve_hints(target)[pk]
        conv = builder.build(hint, None if merged.is_empty() else merged)
        schema = {k: v for k, v in conv.schema.items() if k not in ("readOnly", "default")}
        return attrs.evolve(conv, schema={**schema, SCHEMA_KEY: target.__name__})


if TYPE_CHECKING:
    from typing_extensions import TypeAliasType

    # To type checkers a reference is whatever key its target has (Any): ``Book(author=a.id)``.
    Ref = TypeAliasType("Ref", Any, type_params=(M,))
else:

    class Ref:
        """``Ref[Author]``: the primary key of an ``Author`` (see the module docstring)."""

        def __class_getitem__(cls, model: Any) -> Any:
            if not (isinstance(model, type) and issubclass(model, Model)):
                raise TypeError(f"Ref[...] takes a tbone.Model subclass, got {model!r}")
            pk_of(model)  # an embedded model has no key to refer to
            return typing.Annotated[Any, RefTo(model)]

        def __init__(self) -> None:
            raise TypeError("Ref[Model] is a field type; it has no instances")


@attrs.frozen
class RefField:
    """A top-level field of a model that holds references: to what, and one or a list."""

    name: str
    target: type[Model]
    many: bool

    def keys(self, obj: Model) -> list[Any]:
        """The keys ``obj`` refers to through this field (none when it is ``None``)."""
        value = getattr(obj, self.name)
        if value is None:
            return []
        return list(value) if self.many else [value]


def references_of(model: type[Model]) -> Mapping[str, RefField]:
    """The fields of ``model`` typed ``Ref[X]``, ``Ref[X] | None`` or ``list[Ref[X]]``."""
    cached: dict[str, RefField] | None = model.__dict__.get("__tbone_refs__")
    if cached is None:
        cached = {}
        for name, info in fields_of(model).items():
            found = _target(info.type)
            if found is not None:
                cached[name] = RefField(name, *found)
        type.__setattr__(model, "__tbone_refs__", cached)
    return cached


def _target(tp: Any) -> tuple[type[Model], bool] | None:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        for item in tp.__metadata__:
            if isinstance(item, RefTo):
                return item.model, False
        return _target(typing.get_args(tp)[0])
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _target(args[0])
    if origin in (list, tuple, set, frozenset) and args:
        inner = _target(args[0])
        return (inner[0], True) if inner is not None and not inner[1] else None
    return None
