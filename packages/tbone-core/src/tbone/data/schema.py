"""JSON Schema (2020-12, as OpenAPI 3.1 uses it) for models."""

from __future__ import annotations

import typing
from typing import Any

from .fields import FieldInfo
from .model import Model, computed_of, fields_of, nested_models_of

__all__ = ["collect_schemas", "model_schema"]


def model_schema(model: type[Model]) -> dict[str, Any]:
    """The schema of ``model`` with every nested model under ``$defs``."""
    defs: dict[str, dict[str, Any]] = {}
    collect_schemas(model, defs)
    ref = f"#/$defs/{model.__name__}"
    if _refers_to(defs, ref):  # recursive: the root must stay addressable under $defs
        return {"$ref": ref, "$defs": defs}
    schema = defs.pop(model.__name__)
    if defs:
        schema["$defs"] = defs
    return schema


def _refers_to(node: Any, ref: str) -> bool:
    if isinstance(node, dict):
        return node.get("$ref") == ref or any(_refers_to(v, ref) for v in node.values())
    if isinstance(node, list):
        return any(_refers_to(v, ref) for v in node)
    return False


def collect_schemas(model: type[Model], into: dict[str, dict[str, Any]]) -> None:
    """Add the schema of ``model`` and of every model it nests to ``into``, keyed by class name.

    References between them use ``#/$defs/Name``; OpenAPI rewrites that to its components.
    """
    if model.__name__ in into:
        return
    into[model.__name__] = {}  # placeholder first: models may refer to themselves
    into[model.__name__] = _object_schema(model)
    for nested in nested_models_of(model):
        collect_schemas(nested, into)


def _object_schema(model: type[Model]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, info in fields_of(model).items():
        if info.options.private:
            continue
        properties[name] = _field_schema(info)
        if info.required and not info.options.read_only:
            required.append(name)
    for name, comp in computed_of(model).items():
        returns = typing.get_type_hints(comp.fn).get("return") if comp.fn.__annotations__ else None
        prop: dict[str, Any] = {"readOnly": True}
        if returns in _PRIMITIVES:
            prop["type"] = _PRIMITIVES[returns]
        if comp.__doc__:
            prop["description"] = comp.__doc__.strip()
        properties[name] = prop
    schema: dict[str, Any] = {"type": "object", "title": model.__name__, "properties": properties}
    if model.__doc__ and model.__doc__ is not Model.__doc__:
        schema["description"] = model.__doc__.strip()
    if required:
        schema["required"] = required
    if model.__tbone_extra__ == "forbid":
        schema["additionalProperties"] = False
    return schema


_PRIMITIVES = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _field_schema(info: FieldInfo) -> dict[str, Any]:
    schema = dict(info.converter.schema)
    options = info.options
    if options.read_only:
        schema["readOnly"] = True
    if options.write_only:
        schema["writeOnly"] = True
    if options.description:
        schema["description"] = options.description
    if options.examples:
        schema["examples"] = list(options.examples)
    if info.has_default and info.factory is None:
        default = info.dump(info.default)
        if default is None or isinstance(default, str | int | float | bool | list | dict):
            schema["default"] = default
    return schema
