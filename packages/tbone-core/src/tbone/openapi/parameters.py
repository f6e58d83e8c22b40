"""Parameters: the primary key in the path, and the query string of list and detail requests.

Each filter parameter is typed by its field exactly as :func:`tbone.storage.parse_params` reads
it: ``year__gte`` is an integer, ``in_print`` a boolean, ``added__lt`` a date-time string,
``author__in`` a comma-separated list of the field's type, ``isbn__exists`` a boolean.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..data import fields_of
from ..data.model import computed_of
from ..resources.refs import MAX_EXPAND_DEPTH, MAX_EXPAND_PATHS, expand_paths
from ..storage.lookup import LOOKUPS
from ..storage.path import Target, resolve

if TYPE_CHECKING:
    from ..resources.resource import Resource

__all__ = ["RESERVED", "detail_parameters", "list_parameters", "pk_parameter", "query_schema"]

#: query parameters the handler reads itself; a filter cannot use these names
RESERVED = frozenset({"order_by", "limit", "offset", "cursor", "fields", "q", "expand"})
_MAX_OFFSET = 2**31 - 1
_TEXT_LOOKUPS = frozenset({"icontains", "startswith"})
_LOOKUP_TEXT = {
    "exact": "equals",
    "ne": "differs from",
    "lt": "is less than",
    "lte": "is at most",
    "gt": "is greater than",
    "gte": "is at least",
    "in": "is one of",
    "nin": "is none of",
    "contains": "contains",
    "icontains": "contains, ignoring case,",
    "startswith": "starts with",
}


def pk_parameter(resource: Resource[Any]) -> dict[str, Any]:
    """``{pk}`` in item paths, typed by the primary key field."""
    target = resolve(resource.model, [resource.pk])
    return {
        "name": resource.pk,
        "in": "path",
        "required": True,
        "description": f"The {resource.pk} of the {resource.model.__name__}.",
        "schema": query_schema(target.converter.schema),
    }


def list_parameters(resource: Resource[Any]) -> list[dict[str, Any]]:
    """Paging, ordering, projection, search and one parameter per allowed filter lookup."""
    params = [*_ordering(resource), *_paging(resource), _fields(resource), *_expand(resource)]
    if resource.search_fields:
        fields = " or ".join(f"`{name}`" for name in resource.search_fields)
        params.append(
            {
                "name": "q",
                "in": "query",
                "description": f"Only objects whose {fields} contains this text.",
                "schema": {"type": "string"},
            }
        )
    return params + filter_parameters(resource)


def detail_parameters(resource: Resource[Any]) -> list[dict[str, Any]]:
    return [_fields(resource), *_expand(resource)]


def _expand(resource: Resource[Any]) -> list[dict[str, Any]]:
    paths = expand_paths(resource)
    if not paths:
        return []
    return [
        {
            "name": "expand",
            "in": "query",
            "description": (
                "Reference fields to embed, comma-separated, dotted for depth (at most "
                f"{MAX_EXPAND_DEPTH} deep, {MAX_EXPAND_PATHS} paths): each key becomes the "
                "object as you may see it, or null when you may not."
            ),
            "style": "form",
            "explode": False,
            "schema": {
                "type": "array",
                "items": {"type": "string", "enum": paths},
                "maxItems": MAX_EXPAND_PATHS,
            },
        }
    ]


def filter_parameters(resource: Resource[Any]) -> list[dict[str, Any]]:
    params = []
    for path in sorted(resource.filter_fields):
        target = resolve(resource.model, path.split("."))
        allowed = set(resource.filter_fields[path])
        params += [_filter(path, lookup, target) for lookup in LOOKUPS if lookup in allowed]
    return params


def _filter(path: str, lookup: str, target: Target) -> dict[str, Any]:
    plain = lookup == "exact" and path not in RESERVED
    param: dict[str, Any] = {
        "name": path if plain else f"{path}__{lookup}",
        "in": "query",
        "schema": _filter_schema(lookup, target),
    }
    if lookup == "exists":
        param["description"] = f"Only objects that have (true) or lack (false) `{path}`."
    elif lookup in ("in", "nin"):
        param["description"] = f"Only objects whose `{path}` {_LOOKUP_TEXT[lookup]} these "
        param["description"] += "values, comma-separated."
        param["style"] = "form"
        param["explode"] = False
    else:
        param["description"] = f"Only objects whose `{path}` {_LOOKUP_TEXT[lookup]} this value."
    return param


def _filter_schema(lookup: str, target: Target) -> dict[str, Any]:
    if lookup == "exists":
        return {"type": "boolean"}
    if lookup in ("in", "nin"):
        return {"type": "array", "items": query_schema(target.converter.schema)}
    if lookup == "contains" and target.kind == "list":
        return query_schema(target.item.schema)
    if lookup in _TEXT_LOOKUPS or lookup == "contains":
        return {"type": "string"}
    return query_schema(target.converter.schema)


def query_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A field's schema as a query-string value: never null, never a nested document."""
    members = schema.get("anyOf")
    if isinstance(members, list):
        present = [m for m in members if m != {"type": "null"}]
        schema = present[0] if len(present) == 1 else {"anyOf": present}
    if _nests_documents(schema):
        return {"type": "string"}
    return {k: v for k, v in schema.items() if k not in ("default", "readOnly", "writeOnly")}


def _nests_documents(node: Any) -> bool:
    if isinstance(node, dict):
        if "$ref" in node or node.get("type") in ("object", "array"):
            return True
        return any(_nests_documents(v) for v in node.values())
    if isinstance(node, list):
        return any(_nests_documents(v) for v in node)
    return False


def _ordering(resource: Resource[Any]) -> list[dict[str, Any]]:
    if not resource.order_fields:
        return []
    keys = [prefix + name for name in resource.order_fields for prefix in ("", "-")]
    default = ",".join(resource.default_order)
    description = "Sort keys, comma-separated; `-` sorts descending."
    if default:
        description += f" Default: `{default}`."
    return [
        {
            "name": "order_by",
            "in": "query",
            "description": description,
            "style": "form",
            "explode": False,
            "schema": {"type": "array", "items": {"type": "string", "enum": keys}},
        }
    ]


def _paging(resource: Resource[Any]) -> list[dict[str, Any]]:
    return [
        {
            "name": "limit",
            "in": "query",
            "description": "How many objects per page.",
            "schema": {
                "type": "integer",
                "minimum": 0,
                "maximum": resource.max_page_size,
                "default": resource.page_size,
            },
        },
        {
            "name": "offset",
            "in": "query",
            "description": "How many matching objects to skip.",
            "schema": {"type": "integer", "minimum": 0, "maximum": _MAX_OFFSET, "default": 0},
        },
        {
            "name": "cursor",
            "in": "query",
            "description": "Continue after the page whose `meta.cursor` this is (keyset paging).",
            "schema": {"type": "string"},
        },
    ]


def _fields(resource: Resource[Any]) -> dict[str, Any]:
    fields = fields_of(resource.model)
    visible = {n for n, f in fields.items() if not (f.options.private or f.options.write_only)}
    names = sorted(visible | set(computed_of(resource.model)))
    return {
        "name": "fields",
        "in": "query",
        "description": (
            f"Only these fields, comma-separated (`{resource.pk}` always comes too); "
            "the objects then carry only the fields asked for."
        ),
        "style": "form",
        "explode": False,
        "schema": {"type": "array", "items": {"type": "string", "enum": names}},
    }
