"""The HTTP face of the API, sans-io: route a :class:`Request`, run the resource, answer.

| request                         | action  | success                                  |
|---------------------------------|---------|------------------------------------------|
| ``GET/HEAD {prefix}/{name}``    | list    | 200 ``{"objects": [...], "meta": {...}}`` |
| ``POST {prefix}/{name}``        | create  | 201 + ``Location`` (a JSON array: bulk)   |
| ``GET/HEAD {prefix}/{name}/{pk}``| detail | 200 + ``ETag``; ``If-None-Match`` -> 304  |
| ``PUT / PATCH .../{pk}``        | replace / update | 200 + ``ETag``; stale ``If-Match`` -> 412 |
| ``DELETE .../{pk}``             | delete  | 204                                      |
| ``OPTIONS`` anything            |         | 204 + ``Allow`` (+ CORS preflight)       |
"""

from __future__ import annotations

import binascii
import hashlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, unquote, urlencode

from ..errors import BadRequest, NotFound, QueryError
from ..jsontext import MAX_DEPTH
from ..resources.action import is_safe, render, unknown_action
from ..resources.context import Context, Via
from ..resources.refs import expand, parse_expand
from ..resources.resource import ListQuery, ListResult, Resource
from ..storage.params import parse_params
from .body import decode_json, encode_json
from .cors import CORS
from .message import Request, Response
from .problem import PROBLEM_JSON, HTTPError, problem_for

__all__ = ["HTTPHandler"]

log = logging.getLogger("tbone")

_JSON = ("Content-Type", "application/json")
_RESERVED = frozenset({"order_by", "limit", "offset", "cursor", "fields", "q", "expand"})
_DETAIL_PARAMS = frozenset({"fields", "expand"})
_MAX_OFFSET = 2**31 - 1
_DIGITS = re.compile(r"[0-9]+")
_URLSAFE = bytes.maketrans(b"+/", b"-_")
_ENTITY_TAG = re.compile(r'\s*(W/)?("[^"]*")\s*(?:,|$)')
_COLLECTION_METHODS = {"list": ("GET", "HEAD"), "create": ("POST",)}
_ITEM_METHODS = {
    "detail": ("GET", "HEAD"),
    "replace": ("PUT",),
    "update": ("PATCH",),
    "delete": ("DELETE",),
}
_ACTION_OF = {
    "collection": {"GET": "list", "HEAD": "list", "POST": "create"},
    "item": {
        "GET": "detail",
        "HEAD": "detail",
        "PUT": "replace",
        "PATCH": "update",
        "DELETE": "delete",
    },
}


class HTTPHandler:
    """Routes requests under ``prefix`` to ``resources`` and renders their results."""

    def __init__(
        self,
        prefix: str,
        resources: Mapping[str, Resource[Any]],
        *,
        max_body_size: int = 1 << 20,
        max_json_depth: int = MAX_DEPTH,
        cors: CORS | None = None,
    ) -> None:
        self.prefix = prefix.rstrip("/")
        self.resources = resources  # the API's registry, read as it fills
        self.max_body_size = max_body_size
        self.max_json_depth = max_json_depth
        self.cors = cors
        #: extra ``GET {prefix}/{segment}`` endpoints (``openapi.json``, ``tbone.js``)
        self.extras: dict[str, Callable[[Request], Response]] = {}
        # (first segment, depth, action) -> allowed methods, filled as routes are first asked for
        self._methods: dict[tuple[str, int, str], tuple[str, ...]] = {}

    async def handle(self, request: Request, via: Via = "http") -> Response:
        """Answer ``request``; ``via`` tells resources whether it came over a WebSocket."""
        allowed: Sequence[str] = ()
        try:
            parts = self._segments(request.path)
            name = self._action_name(parts)
            allowed = self._allowed_methods(parts, name)
            response = await self._dispatch(request, parts, allowed, name, via)
        except Exception as exc:  # every failure becomes a problem document, never a traceback
            response = self.error_response(exc, request, allowed)
        return self._finish(request, response, allowed)

    def error_response(
        self, exc: BaseException, request: Request | None = None, allowed: Sequence[str] = ()
    ) -> Response:
        status, body, headers = problem_for(exc)
        if status >= 500:
            where = f"{request.method} {request.path}" if request else "a request"
            log.error("unhandled error while handling %s", where, exc_info=exc)
        if status == 405 and allowed and not any(k.lower() == "allow" for k, _ in headers):
            headers = (*headers, ("Allow", ", ".join(allowed)))
        return Response(status, ((*_problem_type(),), *headers), encode_json(body))

    def request_body(self, request: Request) -> Any:
        """The JSON value of ``request``'s body, read with this API's limits."""
        return decode_json(request.headers, request.body, self.max_body_size, self.max_json_depth)

    # -- routing ------------------------------------------------------------------------------

    def _segments(self, path: str) -> list[str]:
        prefix = self.prefix
        if path != prefix and not path.startswith(prefix + "/"):
            raise HTTPError(
                404, f"nothing is served at {path}; the API lives under {prefix or '/'}"
            )
        rest = path[len(prefix) :].strip("/")
        if not rest:
            return []
        parts = rest.split("/")
        return [_unquote(part) for part in parts] if "%" in rest else parts

    def _allowed_methods(self, parts: list[str], name: str) -> tuple[str, ...]:
        """The methods of the route ``parts`` (custom action ``name``, or ``""``), worked out
        once per route shape; the key never holds an unknown resource or action name."""
        key = (parts[0] if parts else "", min(len(parts), 4), name)
        methods = self._methods.get(key)
        if methods is None:
            methods = self._methods[key] = self._methods_for(parts, name)
        return methods

    def _action_name(self, parts: list[str]) -> str:
        """The custom action ``parts`` name (``""`` for CRUD routes); ``NotFound`` for a third
        segment that names none."""
        if len(parts) == 3:
            resource = self._resource(parts[0])
            spec = resource.custom_actions.get(parts[2])
            if spec is None or not spec.detail:
                raise unknown_action(resource, parts[2], detail=True)
            return parts[2]
        if len(parts) == 2 and parts[0] in self.resources:
            spec = self.resources[parts[0]].custom_actions.get(parts[1])
            if spec is not None and not spec.detail:  # a collection action wins over a pk
                return parts[1]
        return ""

    def _methods_for(self, parts: list[str], name: str) -> tuple[str, ...]:
        if len(parts) == 0 or (len(parts) == 1 and parts[0] in self.extras):
            return ("GET", "HEAD", "OPTIONS")
        if len(parts) > 3:
            raise NotFound("no such endpoint")
        if name:
            return (*self.resources[parts[0]].custom_actions[name].http_methods, "OPTIONS")
        if parts == ["ws"]:  # the transport serves the upgrade; a plain request lands here
            raise HTTPError(
                426,
                f"{self.prefix}/ws is the WebSocket endpoint: connect with subprotocol tbone.v1",
                headers=[("Upgrade", "websocket"), ("Connection", "Upgrade")],
                slug="upgrade-required",
            )
        resource = self._resource(parts[0])
        table = _COLLECTION_METHODS if len(parts) == 1 else _ITEM_METHODS
        methods = [m for action, ms in table.items() if action in resource.actions for m in ms]
        return (*methods, "OPTIONS")

    def _resource(self, name: str) -> Resource[Any]:
        resource = self.resources.get(name)
        if resource is None:
            known = ", ".join(sorted(self.resources)) or "none"
            raise NotFound(f"there is no resource named {name!r} (resources: {known})")
        return resource

    async def _dispatch(
        self, request: Request, parts: list[str], allowed: Sequence[str], name: str, via: Via
    ) -> Response:
        method = request.method.upper()
        if method == "OPTIONS":
            return Response(204)
        if method not in allowed:
            listed = ", ".join(allowed)
            raise HTTPError(
                405, f"{method} is not allowed here; use {listed}", headers=[("Allow", listed)]
            )
        if not parts:
            return self._index()
        if len(parts) == 1 and parts[0] in self.extras:
            return self.extras[parts[0]](request)
        resource = self._resource(parts[0])
        ctx = await resource.context(request, via)
        if len(parts) == 1:
            return await self._collection(request, resource, ctx, method)
        if len(parts) == 2 and name:
            return await self._action(request, resource, ctx, name, None)
        pk = resource.pk_from_text(parts[1])
        if name:
            return await self._action(request, resource, ctx, name, pk)
        return await self._item(request, resource, ctx, method, pk)

    def _index(self) -> Response:
        links = {name: f"{self.prefix}/{name}" for name in sorted(self.resources)}
        return _json(200, {"resources": links, "openapi": f"{self.prefix}/openapi.json"})

    # -- collection ---------------------------------------------------------------------------

    async def _collection(
        self, request: Request, resource: Resource[Any], ctx: Context, method: str
    ) -> Response:
        if method == "POST":
            data = self.request_body(request)
            if isinstance(data, list):
                created = await resource.create_many(data, ctx)
                body = {"objects": [resource.serialize(o, ctx) for o in created]}
                return _json(201, body)
            obj = await resource.create(data, ctx)
            location = f"{self.prefix}/{resource.name}/{_segment(resource, obj)}"
            return _tagged(201, encode_json(resource.serialize(obj, ctx)), ("Location", location))
        query = self.list_query(resource, request.query)
        tree = parse_expand(resource, _last(request.query, "expand"))
        result = await resource.list(query, ctx)
        objects = [resource.serialize(o, ctx, query.fields) for o in result.objects]
        if tree:
            await expand(resource, result.objects, objects, tree, ctx)
        return _json(200, self._page_body(request, resource, objects, query, result))

    def list_query(self, resource: Resource[Any], pairs: list[tuple[str, str]]) -> ListQuery:
        """Parse ``order_by limit offset cursor fields q`` and the filters of a query string."""
        params = dict(p for p in pairs if p[0] in _RESERVED)
        filters = [p for p in pairs if p[0] not in _RESERVED]
        limits = resource.active_query_limits()
        where = parse_params(resource.model, filters, allowed=resource.filter_fields, limits=limits)
        limit = _integer(params, "limit", resource.page_size, resource.max_page_size)
        offset = _integer(params, "offset", 0, _MAX_OFFSET)
        search = params.get("q") or None
        if search is not None:
            if not resource.search_fields:
                raise QueryError.single(["q"], f"{resource.name} does not support search", "search")
            limits.check_search(search)
        return ListQuery(
            where=where,
            order_by=self._order(resource, params.get("order_by")),
            limit=limit,
            offset=offset,
            cursor=params.get("cursor") or None,
            fields=self._fields(resource, params.get("fields")),
            search=search,
        )

    def _order(self, resource: Resource[Any], text: str | None) -> tuple[str, ...]:
        if not text:
            return ()
        keys = tuple(k.strip() for k in text.split(",") if k.strip())
        allowed = set(resource.order_fields)
        bad = [k for k in keys if k.lstrip("-") not in allowed]
        if bad:
            listed = ", ".join(resource.order_fields) or "none"
            raise QueryError.single(
                ["order_by"], f"cannot order by {', '.join(bad)}; allowed: {listed}", "order_by"
            )
        return keys

    def _fields(self, resource: Resource[Any], text: str | None) -> tuple[str, ...] | None:
        if text is None:
            return None
        names = tuple(n.strip() for n in text.split(",") if n.strip())
        visible = _visible_fields(resource)
        bad = [n for n in names if n not in visible]
        if bad:
            listed = ", ".join(sorted(visible))
            raise QueryError.single(
                ["fields"], f"unknown fields {', '.join(bad)}; choose from {listed}", "fields"
            )
        return (resource.pk, *names)

    def _page_body(
        self,
        request: Request,
        resource: Resource[Any],
        objects: list[dict[str, Any]],
        query: ListQuery,
        result: ListResult[Any],
    ) -> dict[str, Any]:
        base = f"{self.prefix}/{resource.name}"
        pairs = [p for p in request.query if p[0] not in ("offset", "cursor")]
        next_url = previous = None
        if query.cursor is not None:
            if result.next_cursor:
                next_url = _url(base, [*pairs, ("cursor", result.next_cursor)])
        else:
            end = result.offset + result.limit
            if result.limit and end < result.total_count:
                next_url = _url(base, [*pairs, ("offset", str(end))])
            if result.offset > 0:
                previous = _url(
                    base, [*pairs, ("offset", str(max(0, result.offset - result.limit)))]
                )
        meta = {
            "total_count": result.total_count,
            "limit": result.limit,
            "offset": result.offset,
            "next": next_url,
            "previous": previous,
            "cursor": result.next_cursor,
        }
        return {"objects": objects, "meta": meta}

    # -- item -----------------------------------------------------------------------------------

    async def _item(
        self, request: Request, resource: Resource[Any], ctx: Context, method: str, pk: Any
    ) -> Response:
        query = _detail_query(request)
        if method in ("GET", "HEAD"):
            fields = self._fields(resource, query.get("fields")) if query else None
            tree = parse_expand(resource, query.get("expand")) if query else None
            obj = await resource.detail(pk, ctx)
            data = resource.serialize(obj, ctx, fields)
            if tree:
                await expand(resource, [obj], [data], tree, ctx)
            body = encode_json(data)
            etag = _etag(body)  # once: it answers If-None-Match and tags the 200
            if _weak_match(request.headers.get("if-none-match"), etag):
                return Response(304, (("ETag", etag),))
            return Response(200, (_JSON, ("ETag", etag)), body)
        if query:
            raise _no_params(resource, query)
        if_match = _if_match(request.headers.get("if-match"), resource, ctx)
        if method == "DELETE":
            await resource.delete(pk, ctx, if_match=if_match)
            return Response(204)
        data = self.request_body(request)
        write = resource.replace if method == "PUT" else resource.update
        obj = await write(pk, data, ctx, if_match=if_match)
        return _tagged(200, encode_json(resource.serialize(obj, ctx)))

    # -- custom actions -------------------------------------------------------------------------

    async def _action(
        self, request: Request, resource: Resource[Any], ctx: Context, name: str, pk: Any
    ) -> Response:
        spec = resource.custom_actions[name]
        if is_safe(request.method.upper()):
            data: Any = spec.query_data(request.query)
        else:
            data = self.request_body(request) if request.body else None
        result = await resource.call(name, pk, data, ctx)
        if result is None:
            return Response(204)
        return _json(200, render(resource, result, ctx))

    # -- finishing ------------------------------------------------------------------------------

    def _finish(self, request: Request, response: Response, allowed: Sequence[str]) -> Response:
        extra: list[tuple[str, str]] = []
        if request.method.upper() == "OPTIONS" and response.status == 204 and allowed:
            extra.append(("Allow", ", ".join(allowed)))
        if self.cors is not None:
            extra += self.cors.headers(request, allowed)
        if request.method.upper() == "HEAD" and response.body:
            # HEAD answers with GET's headers, Content-Length included, and no body.
            length = ("Content-Length", str(len(response.body)))
            response = Response(response.status, (*response.headers, length), b"")
        if extra:
            response = Response(response.status, (*response.headers, *extra), response.body)
        return response


def _segment(resource: Resource[Any], obj: Any) -> str:
    """The URL path segment naming ``obj``: its primary key as JSON text, percent-encoded."""
    value = getattr(obj, resource.pk)
    if type(value) is not str:  # the key as the API writes it (UUIDs, instants, numbers)
        value = str(obj.to_data(fields={resource.pk})[resource.pk])
    return value if value.isascii() and value.isalnum() else quote(value, safe="")


def _unquote(segment: str) -> str:
    try:
        return unquote(segment, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest(
            "the URL path is not valid UTF-8 once percent-decoded", slug="bad-url"
        ) from None


def _detail_query(request: Request) -> dict[str, str]:
    """The query of a single-object request: only ``fields`` means something there."""
    if not request.query_string:  # most detail requests: nothing to parse
        return {}
    pairs = request.query
    unknown = sorted({name for name, _ in pairs} - _DETAIL_PARAMS)
    if unknown:
        raise QueryError.single(
            [unknown[0]],
            f"unknown query parameter {unknown[0]!r}; a single object takes only: fields, expand",
            "unknown_parameter",
        )
    return dict(pairs)


def _last(pairs: list[tuple[str, str]], name: str) -> str | None:
    found = None
    for key, value in pairs:
        if key == name:
            found = value
    return found


def _no_params(resource: Resource[Any], query: dict[str, str]) -> QueryError:
    name = next(iter(query))
    return QueryError.single(
        [name], f"a write to one {resource.name} object takes no query parameters", "parameter"
    )


def _problem_type() -> tuple[str, str]:
    return ("Content-Type", PROBLEM_JSON)


def _json(status: int, body: Any, *headers: tuple[str, str]) -> Response:
    return Response(status, (_JSON, *headers), encode_json(body))


def _url(base: str, pairs: list[tuple[str, str]]) -> str:
    return f"{base}?{urlencode(pairs)}" if pairs else base


def _visible_fields(resource: Resource[Any]) -> set[str]:
    from ..data import fields_of
    from ..data.model import computed_of

    fields = fields_of(resource.model)
    names = {n for n, f in fields.items() if not (f.options.private or f.options.write_only)}
    return names | set(computed_of(resource.model))


def _integer(params: dict[str, str], name: str, default: int, maximum: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    if _DIGITS.fullmatch(text) is None or len(text) > 12:
        raise QueryError.single([name], f"{name} must be a whole number in ASCII digits", name)
    value = int(text)
    if not 0 <= value <= maximum:
        raise QueryError.single([name], f"{name} must be between 0 and {maximum}", name)
    return value


def _etag(body: bytes) -> str:
    """A strong entity tag naming this exact representation (not only a version number, which
    a deleted and re-created object would repeat)."""
    digest = hashlib.blake2b(body, digest_size=12).digest()
    return '"' + binascii.b2a_base64(digest, newline=False).translate(_URLSAFE).decode() + '"'


def _tagged(status: int, body: bytes, *headers: tuple[str, str]) -> Response:
    return Response(status, (_JSON, *headers, ("ETag", _etag(body))), body)


def _entity_tags(header: str) -> list[tuple[bool, str]]:
    """``(weak, opaque-tag)`` for each tag of a list header; malformed members are ignored."""
    return [(bool(weak), tag) for weak, tag in _ENTITY_TAG.findall(header)]


def _weak_match(header: str | None, etag: str) -> bool:
    """``If-None-Match``: weak comparison (RFC 9110 §13.1.2)."""
    if header is None:
        return False
    return header.strip() == "*" or any(tag == etag for _, tag in _entity_tags(header))


def _if_match(
    header: str | None, resource: Resource[Any], ctx: Context
) -> Callable[[Any], bool] | None:
    """``If-Match`` as a check of the current object: strong comparison (RFC 9110 §13.1.1),
    so a weak tag never matches; ``*`` matches any current object."""
    if header is None:
        return None
    if header.strip() == "*":
        return lambda obj: True
    tags = {tag for weak, tag in _entity_tags(header) if not weak}

    def current_matches(obj: Any) -> bool:
        return _etag(encode_json(resource.serialize(obj, ctx))) in tags

    return current_matches
