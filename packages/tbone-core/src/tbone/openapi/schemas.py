"""``components``: model schemas, problem documents and the list/bulk envelopes around them.

One schema per model, shared by requests and responses: ``readOnly`` / ``writeOnly`` say which
direction a property travels (JSON Schema 2020-12 annotations, as OpenAPI 3.1 uses them). A
write-only field never appears in responses, so it is left out of the model's ``required`` list
and required again by the request bodies that need it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from ..data import Model, collect_schemas, fields_of
from ..data.model import nested_models_of

__all__ = [
    "PROBLEM_STATUSES",
    "SchemaSet",
    "header_ref",
    "list_meta_schema",
    "problem_components",
    "ref",
    "request_body_schema",
    "response_ref",
    "rewrite_refs",
]

_DEFS = "#/$defs/"
_COMPONENTS = "#/components/schemas/"

#: status -> name of the reusable problem response
PROBLEM_STATUSES: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    412: "PreconditionFailed",
    413: "ContentTooLarge",
    415: "UnsupportedMediaType",
    422: "ValidationFailed",
    503: "ServiceUnavailable",
}
_BUILT_IN = frozenset({"Problem", "ProblemError", "ListMeta"})


def ref(name: str) -> dict[str, str]:
    """A reference to ``components.schemas[name]``."""
    return {"$ref": _COMPONENTS + name}


def response_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def header_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def rewrite_refs(node: Any) -> Any:
    """A copy of ``node`` with every ``#/$defs/X`` reference pointing at the components
    (``$ref`` values, and the ``mapping`` of a tagged union's ``discriminator``)."""
    if isinstance(node, dict):
        return {key: _rewrite_entry(key, value) for key, value in node.items()}
    if isinstance(node, list):
        return [rewrite_refs(item) for item in node]
    return node


def _rewrite_entry(key: str, value: Any) -> Any:
    if key == "$ref":
        return _component_ref(value)
    if key == "discriminator" and isinstance(value, dict):
        mapping = value.get("mapping")
        if isinstance(mapping, dict):
            return {**value, "mapping": {k: _component_ref(v) for k, v in mapping.items()}}
    return rewrite_refs(value)


def _component_ref(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_DEFS):
        return _COMPONENTS + value[len(_DEFS) :]
    return value


class SchemaSet:
    """The ``components.schemas`` of a document, filled resource by resource.

    Models are keyed by class name (as :func:`tbone.data.collect_schemas` refers to them), so
    two different models with one name are refused instead of silently sharing a schema.
    """

    def __init__(self) -> None:
        self.schemas: dict[str, dict[str, Any]] = {}
        self._owners: dict[str, type[Model] | str] = {}

    def add_model(self, model: type[Model]) -> str:
        """Add ``model`` and every model it nests; the component name of ``model``."""
        for each in _model_tree(model):
            self._claim(each.__name__, each)
        collected: dict[str, dict[str, Any]] = {}
        collect_schemas(model, collected)
        for name, schema in collected.items():
            if name not in self.schemas:
                self.schemas[name] = _for_responses(rewrite_refs(schema), _write_only(schema))
        return model.__name__

    def add_envelopes(self, model: type[Model], pk: str) -> None:
        """The list page, the partial-update body, the bulk-create result of ``model``, and
        the projection ``?fields=`` answers with."""
        name = model.__name__
        patch = {k: copy.deepcopy(v) for k, v in self.schemas[name].items() if k != "required"}
        projected = {
            **copy.deepcopy(patch),
            "title": f"{name}Fields",
            "description": f"The fields of a {name} that `fields=` named, and its primary key.",
            "required": [pk],
        }
        self._add(f"{name}Fields", model, projected)
        either = {"anyOf": [ref(name), ref(f"{name}Fields")]}
        items = {"type": "array", "items": ref(name)}
        self._add(
            f"{name}List",
            model,
            {
                "type": "object",
                "title": f"{name}List",
                "description": f"One page of {name} objects (only some fields with `fields=`).",
                "properties": {
                    "objects": {"type": "array", "items": either},
                    "meta": ref("ListMeta"),
                },
                "required": ["objects", "meta"],
            },
        )
        patch["title"] = f"{name}Patch"
        patch["description"] = f"Some fields of a {name}; the others keep their values."
        self._add(f"{name}Patch", model, patch)
        self._add(
            f"{name}BulkCreated",
            model,
            {
                "type": "object",
                "title": f"{name}BulkCreated",
                "description": f"The {name} objects created by one bulk request, in order.",
                "properties": {"objects": items},
                "required": ["objects"],
            },
        )

    def _add(self, name: str, owner: type[Model], schema: dict[str, Any]) -> None:
        self._claim(name, f"the envelope of {owner.__module__}.{owner.__qualname__}")
        self.schemas.setdefault(name, schema)

    def _claim(self, name: str, owner: type[Model] | str) -> None:
        known = self._owners.setdefault(name, owner)
        if name in _BUILT_IN or known is not owner:
            raise ValueError(
                f"two schemas would be named {name!r} in the OpenAPI document "
                f"({_describe(known)} and {_describe(owner)}); rename one of the models"
            )

    def sorted(self) -> dict[str, dict[str, Any]]:
        return {name: self.schemas[name] for name in sorted(self.schemas)}


def _describe(owner: type[Model] | str) -> str:
    if isinstance(owner, str):
        return owner
    return f"{owner.__module__}.{owner.__qualname__}"


def _model_tree(model: type[Model]) -> list[type[Model]]:
    seen: dict[type[Model], None] = {}
    pending = [model]
    while pending:
        current = pending.pop()
        if current not in seen:
            seen[current] = None
            pending.extend(nested_models_of(current))
    return list(seen)


def _write_only(schema: dict[str, Any]) -> set[str]:
    properties = schema.get("properties", {})
    return {name for name, prop in properties.items() if prop.get("writeOnly")}


def _for_responses(schema: dict[str, Any], write_only: set[str]) -> dict[str, Any]:
    required = [name for name in schema.get("required", ()) if name not in write_only]
    schema = {key: value for key, value in schema.items() if key != "required"}
    if required:
        schema["required"] = required
    return schema


def request_body_schema(model: type[Model]) -> dict[str, Any]:
    """The body of a create or replace: the model, with its write-only fields required again."""
    required = sorted(
        name for name, info in fields_of(model).items() if info.options.write_only and info.required
    )
    if not required:
        return ref(model.__name__)
    return {"allOf": [ref(model.__name__)], "required": required}


def problem_components(statuses: Iterable[int]) -> dict[str, Any]:
    """``Problem`` schemas and one reusable response per status the document uses."""
    schemas = {"Problem": copy.deepcopy(_PROBLEM), "ProblemError": copy.deepcopy(_PROBLEM_ERROR)}
    responses: dict[str, Any] = {}
    for status in sorted(set(statuses)):
        narrowed: dict[str, Any] = {"properties": {"status": {"const": status}}}
        if status == 422:
            narrowed["required"] = ["errors"]
        schema = {"allOf": [ref("Problem"), narrowed]}
        response: dict[str, Any] = {
            "description": _PROBLEM_DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
            "content": {"application/problem+json": {"schema": schema}},
        }
        if status == 401:
            response["headers"] = {"WWW-Authenticate": header_ref("WWW-Authenticate")}
        responses[PROBLEM_STATUSES[status]] = response
    responses["Problem"] = {
        "description": "Any other problem (raised by a hook, a permission or the server).",
        "content": {"application/problem+json": {"schema": ref("Problem")}},
    }
    return {"schemas": schemas, "responses": responses}


_PROBLEM_DESCRIPTIONS = {
    400: "Malformed JSON, or an unknown or badly typed query parameter.",
    401: "Authentication is required, or the credentials are not valid.",
    403: "The authenticated user may not do this.",
    404: "No such object (or it is outside what the user may see).",
    409: "A unique value is already taken, or the object kept changing.",
    412: "If-Match names a version that is no longer current.",
    413: "The body is too large, or a bulk request has too many objects.",
    415: "The body is not sent as JSON.",
    422: "The data does not validate; `errors` locates every problem.",
    503: "The store is unavailable; try again later.",
}

_PROBLEM_ERROR: dict[str, Any] = {
    "type": "object",
    "title": "ProblemError",
    "description": "One problem with the request, located by its path in the body or query.",
    "properties": {
        "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
        "msg": {"type": "string"},
        "type": {"type": "string"},
    },
    "required": ["loc", "msg", "type"],
}

_PROBLEM: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "Problem details (RFC 9457), sent as application/problem+json.",
    "properties": {
        "type": {"type": "string", "format": "uri-reference", "default": "about:blank"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": ref("ProblemError")},
    },
    "required": ["type", "title", "status"],
}


def list_meta_schema() -> dict[str, Any]:
    nullable_url = {"type": ["string", "null"], "format": "uri-reference"}
    return {
        "type": "object",
        "title": "ListMeta",
        "description": "Where a page sits among the matching objects, and links to its neighbours.",
        "properties": {
            "total_count": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 0},
            "offset": {"type": "integer", "minimum": 0},
            "next": nullable_url,
            "previous": nullable_url,
            "cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` to read the page after this one.",
            },
        },
        "required": ["total_count", "limit", "offset", "next", "previous", "cursor"],
    }
