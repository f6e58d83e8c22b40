"""The document: one path per collection and per item, with the operations each resource serves.

Operations follow :mod:`tbone.http.handler` exactly: an action left out of ``Resource.actions``
has no operation (the handler answers 405), and each operation lists the problem statuses its
request can produce.
"""

from __future__ import annotations

import copy
import inspect
from typing import TYPE_CHECKING, Any

from ..data.ref import SCHEMA_KEY
from ..resources.action import Action
from ..resources.auth import SAFE_ACTIONS, BearerToken, IsAuthenticated
from ..resources.refs import expandable
from ..resources.resource import Resource
from .actions import action_body, action_parameters, action_responses
from .expanded import add_expanded
from .parameters import detail_parameters, list_parameters, pk_parameter
from .schemas import (
    PROBLEM_STATUSES,
    SchemaSet,
    header_ref,
    list_meta_schema,
    problem_components,
    ref,
    request_body_schema,
    response_ref,
)

if TYPE_CHECKING:
    from ..api import API

__all__ = ["build_openapi"]

_BEARER = "bearerAuth"
_JSON = "application/json"
_SERVER = (503,)
_BODY = (400, 413, 415, 422)


def build_openapi(api: API) -> dict[str, Any]:
    """The OpenAPI 3.1.0 document of every resource registered on ``api``.

    >>> api.openapi()["paths"]["/api/books"]["get"]["operationId"]  # doctest: +SKIP
    'list_books'
    """
    schemas = SchemaSet()
    paths: dict[str, Any] = {}
    statuses: set[int] = set()
    bearer = _uses_bearer(api)
    for name in sorted(api.resources):
        resource = api.resources[name]
        schemas.add_model(resource.model)
        schemas.add_envelopes(resource.model, resource.pk)
        expanded = add_expanded(schemas, resource)
        if expanded is not None:  # list pages may hold it too
            page = schemas.schemas[f"{resource.model.__name__}List"]
            page["properties"]["objects"]["items"]["anyOf"].append(ref(expanded))
        builder = _Operations(resource, bearer, schemas)
        base = f"{api.prefix}/{resource.name}"
        collection, item = builder.collection(), builder.item()
        if collection:
            paths[base] = collection
        if item:
            paths[f"{base}/{{{resource.pk}}}"] = {"parameters": [pk_parameter(resource)], **item}
        for spec in resource.custom_actions.values():
            if spec.detail:
                path = f"{base}/{{{resource.pk}}}/{spec.name}"
                paths[path] = {"parameters": [pk_parameter(resource)], **builder.action(spec)}
            else:
                paths[f"{base}/{spec.name}"] = builder.action(spec)
        statuses |= builder.statuses
    _name_referenced_resources(api, schemas.schemas)
    schemas.schemas["ListMeta"] = list_meta_schema()
    problems = problem_components(statuses)
    schemas.schemas.update(problems["schemas"])
    components: dict[str, Any] = {
        "schemas": schemas.sorted(),
        "responses": problems["responses"],
        "headers": copy.deepcopy(_HEADERS),
        "parameters": copy.deepcopy(_PARAMETERS),
    }
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": api.title, "version": api.version},
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "tags": [_tag(api.resources[name]) for name in sorted(api.resources)],
        "paths": paths,
        "components": components,
    }
    if bearer:
        components["securitySchemes"] = {_BEARER: {"type": "http", "scheme": "bearer"}}
        if isinstance(api.authenticator, BearerToken):
            document["security"] = [{_BEARER: []}, {}]
    return document


def _name_referenced_resources(api: API, node: Any) -> None:
    """Beside each ``x-tbone-ref`` (the model a ``Ref`` field points to), the resource that
    serves it: ``x-tbone-resource``, whose path the key completes."""
    if isinstance(node, dict):
        name = node.get(SCHEMA_KEY)
        if isinstance(name, str):
            served = [r.name for r in api.resources.values() if r.model.__name__ == name]
            if served:
                node["x-tbone-resource"] = served[0]
        for value in node.values():
            _name_referenced_resources(api, value)
    elif isinstance(node, list):
        for value in node:
            _name_referenced_resources(api, value)


def _uses_bearer(api: API) -> bool:
    return any(isinstance(r.active_authenticator(), BearerToken) for r in api.resources.values())


def _tag(resource: Resource[Any]) -> dict[str, str]:
    doc = resource.model.__doc__
    tag = {"name": resource.name}
    if doc:
        tag["description"] = doc.strip().splitlines()[0]
    return tag


class _Operations:
    """The operations of one resource, and which problem statuses they use."""

    def __init__(self, resource: Resource[Any], bearer: bool, schemas: SchemaSet) -> None:
        self.resource = resource
        self.bearer = bearer
        self.schemas = schemas
        self.model = resource.model.__name__
        self.statuses: set[int] = set()

    def collection(self) -> dict[str, Any]:
        ops: dict[str, Any] = {}
        if "list" in self.resource.actions:
            ops["get"] = self._list()
            ops["head"] = self._head("list", ops["get"])
        if "create" in self.resource.actions:
            ops["post"] = self._create()
        return ops

    def item(self) -> dict[str, Any]:
        ops: dict[str, Any] = {}
        actions = self.resource.actions
        if "detail" in actions:
            ops["get"] = self._detail()
            ops["head"] = self._head("get", ops["get"])
        if "replace" in actions:
            ops["put"] = self._write("replace", "Replace every writable field of")
        if "update" in actions:
            ops["patch"] = self._write("update", "Change some fields of")
        if "delete" in actions:
            ops["delete"] = self._delete()
        return ops

    # -- one operation per action ---------------------------------------------------------------

    def _list(self) -> dict[str, Any]:
        return self._operation(
            "list",
            f"List {self.resource.name}",
            (400,),
            {"200": _json_response(f"A page of {self.resource.name}.", ref(f"{self.model}List"))},
            parameters=list_parameters(self.resource),
        )

    def _create(self) -> dict[str, Any]:
        single = request_body_schema(self.resource.model)
        bulk = {"type": "array", "items": single, "maxItems": self.resource.max_bulk_size}
        created = _json_response(
            f'The created {self.model}, or `{{"objects": [...]}}` after a bulk create.',
            {"anyOf": [ref(self.model), ref(f"{self.model}BulkCreated")]},
        )
        created["headers"] = {"Location": header_ref("Location"), "ETag": header_ref("ETag")}
        op = self._operation("create", f"Create {self.resource.name}", (*_BODY, 409), {})
        op["requestBody"] = {
            "required": True,
            "description": f"One {self.model}, or a JSON array of them to create in bulk.",
            "content": {_JSON: {"schema": {"oneOf": [single, bulk]}}},
        }
        op["responses"] = {"201": created, **op["responses"]}
        return op

    def _detail(self) -> dict[str, Any]:
        shapes = [ref(self.model), ref(f"{self.model}Fields")]
        if expandable(self.resource):
            shapes.append(ref(f"{self.model}Expanded"))
        ok = _json_response(
            f"The {self.model} (only some fields with `fields=`, references embedded with "
            "`expand=`).",
            {"anyOf": shapes},
        )
        ok["headers"] = {"ETag": header_ref("ETag")}
        not_modified = {
            "description": "The object still has the version If-None-Match names.",
            "headers": {"ETag": header_ref("ETag")},
        }
        return self._operation(
            "detail",
            f"Get one of {self.resource.name}",
            (400, 404),
            {"200": ok, "304": not_modified},
            parameters=[*detail_parameters(self.resource), {"$ref": _IF_NONE_MATCH}],
        )

    def _write(self, action: str, verb: str) -> dict[str, Any]:
        body = (
            ref(f"{self.model}Patch")
            if action == "update"
            else request_body_schema(self.resource.model)
        )
        ok = _json_response(f"The {self.model} as stored.", ref(self.model))
        ok["headers"] = {"ETag": header_ref("ETag")}
        op = self._operation(
            action,
            f"{verb} one of {self.resource.name}",
            (*_BODY, 404, 409, 412),
            {"200": ok},
            parameters=[{"$ref": _IF_MATCH}],
        )
        op["requestBody"] = {"required": True, "content": {_JSON: {"schema": body}}}
        return op

    def _delete(self) -> dict[str, Any]:
        return self._operation(
            "delete",
            f"Delete one of {self.resource.name}",
            (404, 412),
            {"204": {"description": "Deleted."}},
            parameters=[{"$ref": _IF_MATCH}],
        )

    def action(self, spec: Action) -> dict[str, Any]:
        """The operations of a custom action: one per method, HEAD beside GET."""
        ops: dict[str, Any] = {}
        for method in spec.methods:
            ops[method.lower()] = op = self._custom(spec, method)
            if method == "GET":
                ops["head"] = self._head(spec.name, op)
        return ops

    def _custom(self, spec: Action, method: str) -> dict[str, Any]:
        problems = [400, 422] if spec.input is not None else [400]
        if spec.detail:
            problems.append(404)
        responses = action_responses(self.resource, spec, self.schemas)
        safe = method == "GET"
        if not safe:
            problems += [413, 415]
        op = self._operation(spec.name, spec.summary, tuple(problems), responses)
        if len(spec.methods) > 1:
            op["operationId"] = f"{spec.name}_{method.lower()}_{self.resource.name}"
        doc = inspect.getdoc(spec.function)
        if doc and "\n" in doc.strip():
            op["description"] = doc.strip()
        if safe:
            parameters = action_parameters(spec)
            if parameters:
                op["parameters"] = parameters
        else:
            op["requestBody"] = action_body(spec, self.schemas)
        return op

    def _head(self, verb: str, get: dict[str, Any]) -> dict[str, Any]:
        head = {**copy.deepcopy(get), "operationId": f"head_{verb}_{self.resource.name}"}
        head["summary"] = f"{get['summary']} (headers only)"
        head["responses"] = {
            status: {k: v for k, v in response.items() if k != "content"}
            if status[0] == "2"
            else response
            for status, response in get["responses"].items()
        }
        return head

    # -- shared parts ----------------------------------------------------------------------------

    def _operation(
        self,
        action: str,
        summary: str,
        problems: tuple[int, ...],
        responses: dict[str, Any],
        *,
        parameters: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        verb = "get" if action == "detail" else action
        op: dict[str, Any] = {
            "operationId": f"{verb}_{self.resource.name}",
            "summary": summary,
            "tags": [self.resource.name],
        }
        if parameters:
            op["parameters"] = parameters
        statuses = {*problems, *_SERVER, *self._access_statuses(action)}
        self.statuses |= statuses
        op["responses"] = {
            **responses,
            **{str(s): response_ref(PROBLEM_STATUSES[s]) for s in sorted(statuses)},
            "default": response_ref("Problem"),
        }
        security = self._security(action)
        if security is not None:
            op["security"] = security
        return op

    def _access_statuses(self, action: str) -> tuple[int, ...]:
        resource = self.resource
        statuses = []
        if resource.active_authenticator() is not None:
            statuses.append(401)
        scoped = type(resource).scope is not Resource.scope
        writes = action in ("create", "replace", "update")
        if resource.active_permissions() or (scoped and writes):
            statuses.append(403)
        return tuple(statuses)

    def _security(self, action: str) -> list[dict[str, list[str]]] | None:
        if not self.bearer:
            return None
        if not isinstance(self.resource.active_authenticator(), BearerToken):
            return []
        if self._requires_user(action):
            return [{_BEARER: []}]
        return [{_BEARER: []}, {}]  # the empty requirement: anonymous requests are served too

    def _requires_user(self, action: str) -> bool:
        for permission in self.resource.active_permissions():
            if isinstance(permission, IsAuthenticated) and not (
                action in permission.anonymous
                or (permission.read_anonymously and action in SAFE_ACTIONS)
            ):
                return True
        return False


def _json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": schema}}}


_IF_MATCH = "#/components/parameters/If-Match"
_IF_NONE_MATCH = "#/components/parameters/If-None-Match"

_HEADERS: dict[str, Any] = {
    "ETag": {
        "description": "The version of the object, for If-None-Match and If-Match.",
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "The URL of the created object (single creates only).",
        "schema": {"type": "string", "format": "uri-reference"},
    },
    "WWW-Authenticate": {
        "description": "How to authenticate (`Bearer realm=...`).",
        "schema": {"type": "string"},
    },
}

_PARAMETERS: dict[str, Any] = {
    "If-Match": {
        "name": "If-Match",
        "in": "header",
        "description": "Write only if the object still has this ETag; 412 otherwise.",
        "schema": {"type": "string"},
    },
    "If-None-Match": {
        "name": "If-None-Match",
        "in": "header",
        "description": "Answer 304 without a body if the object still has this ETag.",
        "schema": {"type": "string"},
    },
}
