"""Field rules at every depth: what clients may write, and what writes must keep.

``read_only`` and ``private`` apply inside embedded models as they do at the top: a client's
value for a read-only field is dropped (it may send back what it read), a private field is
unknown to it (an "unknown field" error where the model forbids extra keys, dropped otherwise),
and a write keeps the stored value of both. Nested models are found through ``X | None``,
``list[X]``, ``set[X]`` and ``dict[str, X]``; list items are matched to stored ones by
position and dict values by key. In a tagged union (``Cat | Dog``) the tag picks the member
whose rules apply; a write that changes the tag keeps nothing of the stored member.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from ..data import Converter, Model, fields_of
from ..data.model import computed_of
from ..data.unions import Tagged
from ..errors import ErrorDetail, ValidationError

__all__ = ["FieldRules", "rules_for"]

Shape = Literal["model", "list", "dict"]


@attrs.define(eq=False)
class FieldRules:
    """The rules of one model; ``nested`` holds those of its fields that hold models."""

    read_only: frozenset[str]
    private: frozenset[str]
    forbid_extra: bool
    nested: dict[str, tuple[Shape, Rules]] = attrs.field(factory=dict)

    @property
    def carried(self) -> frozenset[str]:
        """Fields a write keeps from the stored document, whatever the client sends."""
        return self.read_only | self.private

    def clean(self, data: Mapping[str, Any], loc: tuple[str | int, ...] = ()) -> dict[str, Any]:
        """``data`` without read-only and private fields, at every depth."""
        errors: list[ErrorDetail] = []
        clean = self._clean(data, loc, errors)
        if errors:
            raise ValidationError(errors)
        return clean

    def carry(self, stored: Mapping[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        """``data`` (cleaned) with the stored read-only and private values put back inside
        the nested objects it replaces; top-level carried fields are the caller's choice."""
        for name, (shape, rules) in self.nested.items():
            new, old = data.get(name), stored.get(name)
            if new is not None and old is not None:
                data[name] = _carry_shape(shape, rules, old, new)
        return data

    def _clean(
        self, data: Mapping[str, Any], loc: tuple[str | int, ...], errors: list[ErrorDetail]
    ) -> dict[str, Any]:
        if self.forbid_extra:
            errors.extend(
                {"loc": [*loc, k], "msg": "unknown field", "type": "extra_forbidden"}
                for k in data
                if k in self.private
            )
        out = {k: v for k, v in data.items() if k not in self.read_only and k not in self.private}
        for name, (shape, rules) in self.nested.items():
            value = out.get(name)
            if value is not None:
                out[name] = _clean_shape(shape, rules, value, (*loc, name), errors)
        return out


@attrs.define(eq=False)
class UnionRules:
    """The rules of a tagged union's members, picked by the tag a value carries."""

    tag: str
    by_tag: dict[str, FieldRules]

    def pick(self, data: Any) -> FieldRules | None:
        tag = data.get(self.tag) if isinstance(data, Mapping) else None
        return self.by_tag.get(tag) if type(tag) is str else None

    def _clean(
        self, data: Mapping[str, Any], loc: tuple[str | int, ...], errors: list[ErrorDetail]
    ) -> dict[str, Any]:
        rules = self.pick(data)
        # no member (a tag missing or wrong): nothing to clean, validation reports the tag
        return dict(data) if rules is None else rules._clean(data, loc, errors)


Rules = FieldRules | UnionRules


def _clean_shape(
    shape: Shape,
    rules: Rules,
    value: Any,
    loc: tuple[str | int, ...],
    errors: list[ErrorDetail],
) -> Any:
    if shape == "model":
        return rules._clean(value, loc, errors) if isinstance(value, Mapping) else value
    if shape == "list" and isinstance(value, list):
        return [
            rules._clean(v, (*loc, i), errors) if isinstance(v, Mapping) else v
            for i, v in enumerate(value)
        ]
    if shape == "dict" and isinstance(value, Mapping):
        return {
            k: rules._clean(v, (*loc, k), errors) if isinstance(v, Mapping) else v
            for k, v in value.items()
        }
    return value  # not the shape the type wants: validation reports it


def _carry_one(rules: Rules, old: Any, new: Any) -> Any:
    if not isinstance(old, Mapping) or not isinstance(new, dict):
        return new
    if isinstance(rules, UnionRules):
        member = rules.pick(new)
        if member is None or rules.pick(old) is not member:
            return new  # another member now: the stored one has nothing to give it
        rules = member
    kept = {k: old[k] for k in rules.carried if k in old}
    return rules.carry(old, {**new, **kept})


def _carry_shape(shape: Shape, rules: Rules, old: Any, new: Any) -> Any:
    if shape == "model":
        return _carry_one(rules, old, new)
    if shape == "list" and isinstance(old, list) and isinstance(new, list):
        return [_carry_one(rules, old[i], v) if i < len(old) else v for i, v in enumerate(new)]
    if shape == "dict" and isinstance(old, Mapping) and isinstance(new, Mapping):
        return {k: _carry_one(rules, old[k], v) if k in old else v for k, v in new.items()}
    return new


def rules_for(model: type[Model]) -> FieldRules:
    """The rules of ``model`` and every model nested in it (computed once per model)."""
    cached: FieldRules | None = model.__dict__.get("__tbone_rules__")
    if cached is not None:
        return cached
    fields = fields_of(model)
    rules = FieldRules(
        read_only=frozenset(n for n, f in fields.items() if f.options.read_only)
        | frozenset(computed_of(model)),  # output only: a client sending back what it read
        private=frozenset(n for n, f in fields.items() if f.options.private),
        forbid_extra=model.__tbone_extra__ == "forbid",
    )
    type.__setattr__(
        model, "__tbone_rules__", rules
    )  # before recursing: models may nest themselves
    for name, info in fields.items():
        found = _nested(info.converter)
        if found is not None:
            shape, held = found
            nested = _rules_of(held)
            if nested is not None:
                rules.nested[name] = (shape, nested)
    return rules


def _rules_of(held: type[Model] | Tagged) -> Rules | None:
    """The rules of a nested model or union, or None when nothing in it needs enforcing."""
    if isinstance(held, Tagged):
        by_tag = {value: rules_for(member) for value, member in held.mapping.items()}
        if any(r.carried or r.nested for r in by_tag.values()):
            return UnionRules(held.tag, by_tag)
        return None
    nested = rules_for(held)
    return nested if nested.carried or nested.nested else None


def _nested(conv: Converter) -> tuple[Shape, type[Model] | Tagged] | None:
    if conv.union is not None:
        return "model", conv.union
    if isinstance(conv.model, type) and issubclass(conv.model, Model):
        return "model", conv.model
    item = conv.item
    if item is not None and item.union is not None:
        return ("dict" if conv.python_type is dict else "list"), item.union
    if item is not None and isinstance(item.model, type) and issubclass(item.model, Model):
        return ("dict" if conv.python_type is dict else "list"), item.model
    return None
