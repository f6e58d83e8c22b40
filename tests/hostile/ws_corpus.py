"""The hostile WebSocket corpus: every case is data (see :mod:`.wscases` for the fields).

Each case runs on a fresh socket as alice unless it says otherwise; the limit on a frame is
the API's default (1 MiB).
"""

from __future__ import annotations

from typing import Any

from .app import MARK
from .wscases import (
    Frame,
    Reply,
    TextBytes,
    WsCase,
    answered,
    closed,
    error,
    pong,
    refused,
    response,
    subscribed,
    subscribed_or_refused,
    unsubscribed,
)

CASES: list[WsCase] = []
_LIMIT = 1 << 20


def case(
    case_id: str,
    frames: Frame | tuple[Frame, ...],
    replies: Reply | tuple[Reply, ...],
    **options: Any,
) -> None:
    if any(c.id == case_id for c in CASES):
        raise ValueError(f"two hostile WebSocket cases are named {case_id!r}")
    frames = frames if isinstance(frames, tuple) else (frames,)
    replies = replies if isinstance(replies, tuple) else (replies,)
    CASES.append(WsCase(id=case_id, frames=frames, replies=replies, **options))


def request(frame_id: Any, method: str, path: str, **extra: Any) -> dict[str, Any]:
    return {"type": "request", "id": frame_id, "method": method, "path": path, **extra}


def subscribe(frame_id: Any = 1, resource: Any = "docs", **extra: Any) -> dict[str, Any]:
    return {"type": "subscribe", "id": frame_id, "resource": resource, **extra}


def _deep(depth: int) -> str:
    return '{"type": "ping", "x": ' + "[" * depth + "]" * depth + "}"


# -- frames that are not JSON objects, or not JSON at all ----------------------------------------

for name, raw in {
    "not-json": "not json",
    "empty": "",
    "whitespace": "   ",
    "array": "[1, 2]",
    "string": '"ping"',
    "null": "null",
    "number": "1",
    "true": "true",
    "truncated": '{"type": "ping"',
    "trailing-brace": '{"type": "ping"}}',
    "trailing-junk": '{"type": "ping"} x',
    "single-quotes": "{'type': 'ping'}",
    "NaN": '{"type": "ping", "x": NaN}',
    "Infinity": '{"type": "ping", "x": Infinity}',
    "minus-Infinity": '{"type": "ping", "x": -Infinity}',
    "1e400": '{"type": "ping", "x": 1e400}',
    "minus-1e400": '{"type": "ping", "x": -1e400}',
    "surrogate-value": '{"type": "ping", "x": "\\ud800"}',
    "surrogate-key": '{"type": "ping", "\\udfff": 1}',
    "surrogate-type": '{"type": "\\ud800"}',
    "huge-int-digits": '{"type": "ping", "x": 1' + "0" * 5000 + "}",
    "deep-500": _deep(500),
    "deep-975": _deep(975),
    "deep-5000": _deep(5000),
    "deep-100000": _deep(100_000),
    "deep-objects-975": '{"type": "ping", "x": ' + '{"a":' * 975 + "1" + "}" * 975 + "}",
    "bare-deep-list": "[" * 100_000 + "]" * 100_000,
}.items():
    case(f"frame-{name}", raw, error(400, None))
for name, raw in {
    "binary-junk": b"\x00\x01binary",
    "binary-json": b'{"type": "ping"}',
    "binary-empty": b"",
}.items():
    case(f"frame-{name}", raw, error(400, None))
case("frame-text-not-utf8", TextBytes(b'{"type": "ping", "x": "\xff"}'), closed(1007))
case("frame-text-utf8-surrogate", TextBytes(b'{"type": "ping", "x": "\xed\xa0\x80"}'), closed(1007))

# -- types and ids -------------------------------------------------------------------------------

for name, frame in {
    "no-type": {"id": 1},
    "unknown-type": {"type": "nope", "id": 1},
    "null-type": {"type": None, "id": 1},
    "list-type": {"type": ["ping"], "id": 1},
    "upper-case-type": {"type": "PING", "id": 1},
    "server-type-event": {"type": "event", "id": 1},
    "server-type-response": {"type": "response", "id": 1},
    "server-type-error": {"type": "error", "id": 1},
    "server-type-subscribed": {"type": "subscribed", "id": 1},
}.items():
    case(f"type-{name}", frame, error(400, 1))
for name, bad_id in {
    "true": True,
    "float": 1.5,
    "object": {"a": 1},
    "list": [1],
    "null": None,
}.items():
    case(f"id-{name}", request(bad_id, "GET", "/api/docs"), error(400, None))
for name, odd_id in {
    "surrogate": "\ud800",
    "surrogate-pair-broken": "a\udc00b",
    "beyond-int64": 2**64,
    "negative": -1,
    "empty": "",
    "long": "x" * 100_000,
    "unicode": "\u202e\U0001f600",
}.items():
    case(f"id-{name}-request", request(odd_id, "GET", "/api/docs"), answered())
    case(
        f"id-{name}-subscribe",
        subscribe(odd_id),
        (answered() if "surrogate" in name else subscribed(odd_id)),
    )
case(
    "id-surrogate-unsubscribe",
    {"type": "unsubscribe", "id": "\ud800", "subscription": "s9"},
    answered(),
)
case("id-surrogate-auth", {"type": "auth", "id": "\ud800", "token": "x"}, answered())

# -- requests ------------------------------------------------------------------------------------

case("request-list", request(1, "GET", "/api/docs"), response(200, 1))
for name, (method, path, body, status) in {
    "cross-user-get": ("GET", "/api/docs/b1", None, 404),
    "cross-user-patch": ("PATCH", "/api/docs/b1", {"title": "mine"}, 404),
    "cross-user-put": ("PUT", "/api/counters/3", {"num": 3, "label": "mine"}, 404),
    "cross-user-delete": ("DELETE", "/api/docs/b1", None, 404),
    "full-width-int-query": ("GET", "/api/docs?year=\uff11\uff19\uff16\uff15", None, 400),
    "full-width-int-path": ("GET", "/api/counters/\uff11", None, (400, 404)),
    "arabic-int-path-delete": ("DELETE", "/api/counters/\u0661", None, (400, 404)),
    "underscore-int-path": ("PATCH", "/api/counters/1_0", {"label": "x"}, (400, 404)),
    "surrogate-in-path": ("GET", "/api/docs/\ud800", None, (400, 404)),
    "surrogate-in-query": ("GET", "/api/docs?title=\ud800", None, 400),
    "surrogate-in-body": ("POST", "/api/docs", {"title": "\ud800"}, 400),
    "surrogate-key-in-body": ("POST", "/api/docs", {"title": "t", "\udfff": 1}, 400),
    "body-null": ("POST", "/api/docs", None, "4xx"),
    "body-string": ("POST", "/api/docs", "doc", "4xx"),
    "body-number": ("PATCH", "/api/docs/a1", 1, "4xx"),
    "body-nested-list": ("POST", "/api/docs", [[{"title": "t"}]], "4xx"),
    "bulk-too-long": ("POST", "/api/docs", [{"title": f"t{n}"} for n in range(11)], 413),
    "bulk-second-invalid": ("POST", "/api/docs", [{"title": "x"}, {"title": ""}], 422),
    "put-different-pk": ("PUT", "/api/counters/1", {"num": 2, "label": "x"}, 422),
    "method-not-allowed": ("DELETE", "/api/docs", None, 405),
    "unknown-method": ("PROPFIND", "/api/docs", None, 405),
    "private-filter": ("GET", "/api/docs?note=x", None, 400),
    "private-order": ("GET", "/api/docs?order_by=cost", None, 400),
    "private-fields": ("GET", "/api/docs?fields=note", None, 400),
    "embedded-private-filter": ("GET", "/api/docs?box.hidden=x", None, 400),
    "bad-cursor": ("GET", "/api/docs?cursor=garbage", None, 400),
    "empty-limit": ("GET", "/api/docs?limit=", None, 400),
    "detail-unknown-param": ("GET", "/api/docs/a1?nope=1", None, 400),
    "no-such-resource": ("GET", "/api/nothing", None, 404),
    "unique-taken": ("POST", "/api/docs", {"title": "t", "code": "A-1"}, 409),
    "int64-pk": ("POST", "/api/counters", {"num": 2**64 + 1, "label": "x"}, (201, 400, 422)),
    "in-100000-values": (
        "GET",
        "/api/docs?year__in=" + ",".join(map(str, range(100_000))),
        None,
        400,
    ),
    "search-2000-words": (
        "GET",
        "/api/docs?q=" + "+".join("ab" for _ in range(2000)),
        None,
        (200, 400),
    ),
}.items():
    extra = {"body": body} if body is not None else {}
    stores = {"stores": "clean"} if name == "int64-pk" else {}
    # a frame holding a lone surrogate may be refused whole (an error frame) or answered
    reply = refused(status, 1) if "surrogate" in name else response(status, 1)
    case(f"request-{name}", request(1, method, path, **extra), reply, **stores)
for name, frame in {
    "path-no-slash": request(1, "GET", "no-slash"),
    "path-empty": request(1, "GET", ""),
    "path-absolute-url": request(1, "GET", "http://evil.example/api/docs"),
    "path-number": request(1, "GET", 5),
    "method-number": request(1, 5, "/api/docs"),
    "method-empty": request(1, "", "/api/docs"),
    "headers-not-strings": request(1, "GET", "/api/docs", headers={"a": 1}),
    "headers-list": request(1, "GET", "/api/docs", headers=[]),
    "no-path": {"type": "request", "id": 1, "method": "GET"},
}.items():
    case(f"request-{name}", frame, Reply("answered", "4xx", 1))
case(
    "request-if-match-superscript",
    request(1, "PATCH", "/api/docs/a1", body={"title": "x"}, headers={"If-Match": '"v\u00b2"'}),
    response(412, 1),
)
case(
    "request-if-match-weak",
    request(1, "PATCH", "/api/docs/a1", body={"title": "x"}, headers={"If-Match": 'W/"v1"'}),
    response(412, 1),
)
case(
    "request-wrong-content-type",
    request(1, "POST", "/api/docs", body={"title": "t"}, headers={"Content-Type": "text/plain"}),
    Reply("response", ("2xx", "4xx"), 1),
    stores="clean",
)
for name, inject in {
    "box-private": {"box": {"label": "l", "hidden": MARK}},
    "box-read-only": {"box": {"label": "l", "stamp": MARK}},
    "boxes-private": {"boxes": [{"hidden": MARK}]},
    "top-private": {"note": MARK},
    "top-read-only": {"status": MARK},
}.items():
    case(
        f"request-inject-{name}-POST",
        request(1, "POST", "/api/docs", body={"title": "t", **inject}),
        response((201, 422), 1),
        stores="clean",
    )
    case(
        f"request-inject-{name}-PATCH",
        request(1, "PATCH", "/api/docs/a1", body=inject),
        response((200, 422), 1),
        stores="clean",
        may_change=("box.label", "boxes"),
    )
case(
    "request-patch-embedded-keeps-server-values",
    request(1, "PATCH", "/api/docs/a1", body={"box": {"label": "relabelled"}}),
    response(200, 1),
    stores="clean",
    may_change=("box.label",),
)

# -- subscriptions -------------------------------------------------------------------------------

case("subscribe-docs", subscribe(1), subscribed(1))
case("subscribe-anonymous", subscribe(1), error(401, 1), user=None)
for name, events in {
    "list-in-list": [[]],
    "object-in-list": [{}],
    "null-in-list": [None],
    "number-in-list": [1],
    "unknown": ["exploded"],
    "empty": [],
    "string": "created",
    "object": {"created": True},
    "surrogate": ["\ud800"],
}.items():
    case(f"subscribe-events-{name}", subscribe(1, events=events), error(400, 1))
for name, where in {
    "regex-lookup": {"title__regex": "x"},
    "private": {"note": "x"},
    "private-float": {"cost__gte": 0},
    "write-only": {"secret": "x"},
    "embedded-private": {"box.hidden": "x"},
    "embedded-private-dunder": {"box__hidden": "x"},
    "owner": {"owner": "bob"},
    "operator-object": {"title": {"$ne": None}},
    "operator-key": {"$where": "1"},
    "operator-in-list": {"title__in": [{"$ne": 1}]},
    "dotted-dollar": {"title.$gt": ""},
    "full-width-int": {"year": "\uff11"},
    "bool-for-int": {"year": True},
    "text-in-list": {"year__in": "1,2"},
    "in-not-list": {"year__in": 5},
    "surrogate-value": {"title": "\ud800"},
    "surrogate-in-list": {"title__in": ["a", "\ud800"]},
    "surrogate-key": {"\ud800": 1},
    "in-100000-values": {"year__in": list(range(100_000))},
    "in-20000-titles": {"title__in": [f"t{n}" for n in range(20_000)]},
    "not-an-object": [1],
    "string": "title=x",
}.items():
    case(f"subscribe-filter-{name}", subscribe(1, filter=where), error(400, 1))
case(
    "subscribe-counters-bad-int", subscribe(1, "counters", filter={"num": "\uff11"}), error(400, 1)
)
case(
    "subscribe-counters-int64",
    subscribe(1, "counters", filter={"num": 2**64 + 1}),
    subscribed_or_refused(1),
)
for name, resource in {"unknown": "nope", "number": 5, "surrogate": "\ud800", "null": None}.items():
    case(f"subscribe-resource-{name}", subscribe(1, resource), error("4xx", 1))
case("subscribe-cross-user-pk", subscribe(1, pk="b1"), subscribed_or_refused(1))
case(
    "subscribe-snapshot-bad-filter",
    subscribe(1, filter={"note": "x"}, snapshot=True),
    error(400, 1),
)
case("subscribe-after-garbage", subscribe(1, after="garbage"), subscribed_or_refused(1))

# -- unsubscribe, auth ---------------------------------------------------------------------------

for name, sub in {
    "unknown": "s999",
    "empty": "",
    "number": 5,
    "null": None,
    "surrogate": "\ud800",
    "list": ["s1"],
}.items():
    expect = 404 if name == "unknown" else (400, 404)
    case(
        f"unsubscribe-{name}",
        {"type": "unsubscribe", "id": 1, "subscription": sub},
        error(expect, 1),
    )
case("unsubscribe-missing-subscription", {"type": "unsubscribe", "id": 1}, error(400, 1))
case(
    "unsubscribe-twice",
    (
        subscribe(1),
        {"type": "unsubscribe", "id": 2, "subscription": "s1"},
        {"type": "unsubscribe", "id": 3, "subscription": "s1"},
    ),
    (subscribed(1), unsubscribed(2), error(404, 3)),
)
for name, token in {
    "wrong": "wrong",
    "empty": "",
    "number": 5,
    "null": None,
    "surrogate": "\ud800",
    "huge": "x" * 100_000,
    "list": ["alice-token"],
}.items():
    expect = 401 if name in ("wrong", "huge") else (400, 401)
    case(f"auth-{name}", {"type": "auth", "id": 1, "token": token}, error(expect, 1))
case(
    "auth-then-other-users-row",
    ({"type": "auth", "id": 1, "token": "bob-token"}, request(2, "GET", "/api/docs/a1")),
    (Reply("authenticated", None, 1), response(404, 2)),
)
for name, query in {
    "wrong": "token=wrong",
    "surrogate": "token=%ED%A0%80",
    "latin1": "token=alic%E9",
}.items():
    case(
        f"connect-token-{name}",
        ({"type": "ping"}, {"type": "ping"}),
        (error(401, None), closed(4401)),
        query=query,
    )
case("connect-token-empty-is-anonymous", subscribe(1), error(401, 1), query="token=")

# -- sizes ---------------------------------------------------------------------------------------

_HEAD, _TAIL = '{"type": "ping", "pad": "', '"}'
_EXACT = _HEAD + "x" * (_LIMIT - len(_HEAD) - len(_TAIL)) + _TAIL
case("size-exactly-the-limit", _EXACT, pong())
case("size-one-over", _EXACT[:-2] + 'x"}', closed(1009))
case("size-binary-one-over", b"\x00" * (_LIMIT + 1), closed(1009))
case("size-multibyte-over", _HEAD + "\u00e9" * (_LIMIT // 2) + _TAIL, closed(1009))
case("size-8-mib", _HEAD + "x" * (8 * _LIMIT) + _TAIL, closed(1009, 1006))
case(
    "size-request-body-over",
    request(1, "POST", "/api/docs", body={"title": "x" * _LIMIT}),
    closed(1009),
)

# -- beyond CRUD over the socket: actions, references, expand, unions (issue 13) ----------------

_TAKE = "/api/counters/1/take"
for name, (method, path, body, status) in {
    "action-take": ("POST", _TAKE, {"n": 1}, 200),
    "action-take-below-zero": ("POST", _TAKE, {"n": 11}, 422),
    "action-take-bad-input": ("POST", _TAKE, {"n": "1"}, 422),
    "action-take-list": ("POST", _TAKE, [{"n": 1}], 422),
    "action-take-foreign": ("POST", "/api/counters/3/take", {"n": 1}, 404),
    "action-take-GET": ("GET", _TAKE, None, 405),
    "action-unknown": ("POST", "/api/counters/1/steal", {}, (404, 405)),
    "action-low": ("GET", "/api/counters/low", None, 200),
    "action-low-bad": ("GET", "/api/counters/low?below=x", None, (400, 422)),
    "ref-foreign": ("POST", "/api/docs", {"title": "t", "counter": 3}, 422),
    "ref-missing": ("POST", "/api/docs", {"title": "t", "counter": 404}, 422),
    "expand-bad": ("GET", "/api/docs?expand=title", None, 400),
    "expand-deep": ("GET", "/api/docs?expand=" + ".".join(["counter"] * 40), None, 400),
    "union-bad-tag": ("POST", "/api/docs", {"title": "t", "pet": {"kind": "cow"}}, 422),
    "union-filter": ("GET", "/api/docs?pet.kind=dog", None, 200),
}.items():
    extra = {"body": body} if body is not None else {}
    writes = status == 200 and method == "POST"
    stores: dict[str, Any] = {"stores": "clean", "may_change": ("stock",)} if writes else {}
    case(f"beyond-{name}", request(1, method, path, **extra), response(status, 1), **stores)
for name, options in {
    "expand": {"expand": "counter"},
    "expand-list": {"expand": ["counter"]},
    "expand-number": {"expand": 5},
    "expand-bad": {"expand": "title"},
    "expand-deep": {"expand": ".".join(["counter"] * 40)},
    "expand-wide": {"expand": ",".join(["counter"] * 500)},
    "expand-snapshot": {"expand": "counter", "snapshot": True},
    "union-filter": {"filter": {"pet.kind": "dog"}},
    "union-filter-bad-type": {"filter": {"pet.lives": "x"}},
    "union-filter-private": {"filter": {"pet.chip": "a1-chip"}},
    "ref-filter": {"filter": {"counter": 3}},
}.items():
    case(f"beyond-subscribe-{name}", subscribe(1, **options), subscribed_or_refused(1))

# -- resume positions and subscription counts (issue 10) -----------------------------------------

for name, after in {
    "other-server": "deadbeefdeadbeef.5",
    "future": "0.99999999999999999999",
    "negative": "x.-1",
    "huge-number": 10**30,
    "number": 5,
    "list": ["a"],
    "object": {"seq": 1},
    "null": None,
    "empty": "",
    "surrogate": "\ud800.1",
    "long": "a" * 100_000,
    "dots": "....",
}.items():
    case(f"after-{name}", subscribe(1, after=after), subscribed_or_refused(1))
    case(
        f"after-{name}-snapshot", subscribe(1, after=after, snapshot=True), subscribed_or_refused(1)
    )
_MANY = 1000
case(
    "thousand-subscriptions-different-filters",
    tuple(subscribe(i, filter={"title": f"t{i}"}) for i in range(_MANY)),
    tuple(subscribed_or_refused(i) for i in range(_MANY)),
)
