"""The parts of a custom action's operations: its body or query, and what it answers.

An action's input model is its request body schema (or, for GET, one query parameter per
top-level field); its return annotation, when it names a model or a list of models, is its
response schema (the resource's own model as the resource serializes it). An action that may
return ``None`` answers 204.
"""

from __future__ import annotations

import collections.abc
import types
import typing
from typing import TYPE_CHECKING, Any

from ..data import Model, fields_of
from .parameters import query_schema
from .schemas import SchemaSet, ref

if TYPE_CHECKING:
    from ..resources.action import Action
    from ..resources.resource import Resource

__all__ = ["action_body", "action_parameters", "action_responses"]

_JSON = "application/json"
_ANY: dict[str, Any] = {}


def action_body(spec: Action, schemas: SchemaSet) -> dict[str, Any]:
    if spec.input is None:
        return {
            "required": False,
            "description": "Any JSON value; the action reads it as it sees fit.",
            "content": {_JSON: {"schema": _ANY}},
        }
    return {
        "required": False,
        "description": f"A {spec.input.__name__} (an absent body counts as `{{}}`).",
        "content": {_JSON: {"schema": ref(schemas.add_model(spec.input))}},
    }


def action_parameters(spec: Action) -> list[dict[str, Any]]:
    """A GET action's query: one parameter per top-level field of its input model."""
    if spec.input is None:
        return []
    params = []
    for name, info in fields_of(spec.input).items():
        if info.options.private or info.options.read_only:
            continue
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "schema": query_schema(info.converter.schema),
        }
        if info.required:
            param["required"] = True
        if info.options.description:
            param["description"] = info.options.description
        params.append(param)
    return params


def action_responses(resource: Resource[Any], spec: Action, schemas: SchemaSet) -> dict[str, Any]:
    returns = _return_type(spec)
    nullable, schema = _result_schema(returns, schemas)
    responses: dict[str, Any] = {}
    if schema is not None:
        responses["200"] = {
            "description": f"What {spec.name} returns.",
            "content": {_JSON: {"schema": schema}},
        }
    if nullable:
        responses["204"] = {"description": f"{spec.name} returned nothing."}
    return responses


def _return_type(spec: Action) -> Any:
    try:
        return typing.get_type_hints(spec.function).get("return", Any)
    except Exception:  # an annotation naming what cannot be imported here: undescribed
        return Any


def _result_schema(tp: Any, schemas: SchemaSet) -> tuple[bool, dict[str, Any] | None]:
    """(may be None, the schema of a non-None result or None when it is always None)."""
    if tp is None or tp is type(None):
        return True, None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        nullable = len(members) < len(typing.get_args(tp))
        if len(members) == 1:
            return nullable or _result_schema(members[0], schemas)[0], _schema(members[0], schemas)
        return nullable, {"anyOf": [_schema(m, schemas) for m in members]}
    return tp is Any, _schema(tp, schemas)


def _schema(tp: Any, schemas: SchemaSet) -> dict[str, Any]:
    if isinstance(tp, type) and issubclass(tp, Model):
        return ref(schemas.add_model(tp))
    origin = typing.get_origin(tp)
    if origin in (list, tuple, collections.abc.Sequence) and typing.get_args(tp):
        return {"type": "array", "items": _schema(typing.get_args(tp)[0], schemas)}
    simple = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object"}
    if tp in simple:
        return {"type": simple[tp]}
    if origin is dict:
        return {"type": "object"}
    return dict(_ANY)
