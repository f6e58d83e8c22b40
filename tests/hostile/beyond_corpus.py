"""Hostile HTTP cases for what goes beyond CRUD (issue 13): custom actions, atomic update
operators behind them, tagged unions, and references with ``expand``. Importing the module adds
them to :data:`.http_corpus.CASES`.

``POST /api/counters/{num}/take`` takes ``n`` (1..100) from a stock that never goes below 0 and
pushes ``mark`` onto a list of at most 20; ``GET /api/counters/low`` is a collection action.
``Doc.pet`` is ``Cat | Dog | None``, tagged by ``kind``; a dog's ``chip`` is private and its
``vet`` read-only. Every seeded doc holds a dog. ``Doc.counter`` is a ``Ref[Counter]`` and
``Doc.counters`` a list of them; alice's doc a2 refers (by a trusted write) to bob's counter 3,
which she must never see through ``expand``.
"""

from __future__ import annotations

from typing import Any

from .app import MARK
from .cases import Step
from .http_corpus import _PUT_FIELDS, case

_C4 = "4xx"

# -- 15. custom actions: routes, methods, input, scope --------------------------------------------

_TAKE = "/api/counters/1/take"
case("action-take-ok", "POST", _TAKE, 200, json={"n": 1}, stores="clean", may_change=("stock",))
case(
    "action-take-with-mark",
    "POST",
    _TAKE,
    200,
    json={"n": 2, "mark": "m"},
    stores="clean",
    may_change=("stock", "marks"),
)
for name, body in {
    "below-zero": {"n": 11},
    "n-zero": {"n": 0},
    "n-negative": {"n": -5},
    "n-too-big": {"n": 101},
    "n-string": {"n": "1"},
    "n-float": {"n": 1.5},
    "n-bool": {"n": True},
    "n-null": {"n": None},
    "n-missing": {},
    "n-huge": {"n": 2**70},
    "n-list": {"n": [1]},
    "mark-too-long": {"n": 1, "mark": "x" * 21},
    "mark-object": {"n": 1, "mark": {"a": 1}},
    "unknown-key": {"n": 1, "stock": 999},
    "body-list": [{"n": 1}],
    "body-string": "take",
    "body-number": 1,
    "body-null": None,
}.items():
    case(f"action-take-{name}", "POST", _TAKE, 422, json=body)
case("action-take-overflow", "POST", _TAKE, 400, raw=b'{"n": 1e400}')
case("action-take-surrogate", "POST", _TAKE, 400, json={"n": 1, "mark": "\ud800"})
case("action-take-deep", "POST", _TAKE, 400, raw="[" * 5000 + "]" * 5000)
case("action-take-not-json", "POST", _TAKE, 400, raw=b"n=1")
case("action-take-empty-body", "POST", _TAKE, (400, 422), raw=b"")
case("action-take-form", "POST", _TAKE, 415, raw=b"n=1", content_type="text/plain")
case(
    "action-take-huge-body",
    "POST",
    _TAKE,
    413,
    raw=b'{"n": 1, "mark": "' + b"x" * 3_000_000 + b'"}',
)
case("action-take-anonymous", "POST", _TAKE, 401, json={"n": 1}, user=None)
case("action-take-foreign", "POST", "/api/counters/3/take", 404, json={"n": 1})
case("action-take-missing", "POST", "/api/counters/99999/take", 404, json={"n": 1})
case("action-take-bad-pk", "POST", "/api/counters/abc/take", (400, 404), json={"n": 1})
case("action-take-huge-pk", "POST", f"/api/counters/{2**80}/take", (400, 404), json={"n": 1})
for method in ("GET", "PUT", "PATCH", "DELETE", "HEAD"):
    body: dict[str, Any] = {"json": {"n": 1}} if method in ("PUT", "PATCH") else {}
    case(f"action-take-{method}", method, _TAKE, 405, **body)
case("action-unknown", "POST", "/api/counters/1/steal", (404, 405), json={"n": 1})
case("action-unknown-collection", "GET", "/api/counters/1/2/3", 404)
case("action-detail-at-collection", "POST", "/api/counters/take", (404, 405), json={"n": 1})
case("action-private-name", "POST", "/api/counters/1/_change", (404, 405), json={})
case("action-dunder-name", "GET", "/api/counters/1/__init__", (404, 405))
case("action-crud-name", "POST", "/api/counters/1/update", (404, 405), json={"label": MARK})
case("action-on-other-resource", "POST", "/api/docs/a1/take", 404, json={"n": 1})
case("action-surrogate-name", "POST", "/api/counters/1/%ED%A0%80", (400, 404), json={})
case("action-long-name", "POST", "/api/counters/1/" + "t" * 5000, (400, 404, 414), json={})
case("action-low-ok", "GET", "/api/counters/low", 200)
case("action-low-filter", "GET", "/api/counters/low?below=11", 200)
for name, query in {
    "negative": "below=-1",
    "letters": "below=abc",
    "huge": "below=" + "9" * 400,
    "surrogate": "below=%ED%A0%80",
    "arabic-digits": "below=%D9%A3",
}.items():
    case(f"action-low-{name}", "GET", f"/api/counters/low?{query}", (400, 422))
case("action-low-POST", "POST", "/api/counters/low", 405, json={})
case("action-low-anonymous", "GET", "/api/counters/low", 401, user=None)
case(
    "action-take-drains",
    "POST",
    _TAKE,
    422,
    setup=(Step(method="POST", path=_TAKE, json={"n": 10}),),
    json={"n": 1},
)
case(
    "action-take-marks-full",  # counter 2 has stock 100: the 21st mark is one too many
    "POST",
    "/api/counters/2/take",
    422,
    setup=tuple(
        Step(method="POST", path="/api/counters/2/take", json={"n": 1, "mark": "m"})
        for _ in range(20)
    ),
    json={"n": 1, "mark": "m"},
)

# -- 16. tagged unions: tags, members, private fields inside members ------------------------------

for name, pet in {
    "unknown-tag": {"kind": "cow"},
    "tag-missing": {"name": "x"},
    "tag-number": {"kind": 1},
    "tag-null": {"kind": None},
    "tag-list": {"kind": ["cat"]},
    "tag-case": {"kind": "Cat"},
    "cat-lives-too-many": {"kind": "cat", "lives": 10},
    "cat-lives-string": {"kind": "cat", "lives": "9"},
    "dog-with-cat-field": {"kind": "dog", "lives": 3},
    "pet-string": "cat",
    "pet-list": [{"kind": "cat"}],
    "pet-number": 7,
    "name-too-long": {"kind": "cat", "name": "x" * 51},
}.items():
    case(f"union-post-{name}", "POST", "/api/docs", 422, json={"title": "t", "pet": pet})
    case(f"union-patch-{name}", "PATCH", "/api/docs/a1", 422, json={"pet": pet})
case(
    "union-surrogate-tag", "POST", "/api/docs", 400, json={"title": "t", "pet": {"kind": "\ud800"}}
)
case(
    "union-dog-private-fields",
    "POST",
    "/api/docs",
    (201, 422),
    json={"title": "t", "pet": {"kind": "dog", "chip": MARK, "vet": MARK}},
    stores="clean",
)
case(
    "union-patch-dog-private",
    "PATCH",
    "/api/docs/a1",
    (200, 422),
    json={"pet": {"kind": "dog", "name": "rex", "chip": MARK, "vet": MARK}},
    stores="clean",
    may_change=("pet.name",),
)
case(
    "union-put-dog-private",
    "PUT",
    "/api/docs/a1",
    (200, 422),
    json={"title": "Dune", "pet": {"kind": "dog", "chip": MARK}},
    stores="clean",
    may_change=(*_PUT_FIELDS, "pet.name", "pet.chip", "pet.vet"),
)
case("union-filter-tag", "GET", "/api/docs?pet.kind=dog", 200, objects=3)
case("union-filter-tag-in", "GET", "/api/docs?pet.kind__in=dog,cat", 200, objects=3)
case("union-filter-unknown-tag", "GET", "/api/docs?pet.kind=cow", (200, 400))
case("union-filter-member-field", "GET", "/api/docs?pet.lives=abc", 400)
case("union-filter-member-huge", "GET", f"/api/docs?pet.lives={2**70}", (200, 400))
case("union-filter-private-member", "GET", "/api/docs?pet.chip=a1-chip", 400)
case("union-filter-readonly-member", "GET", "/api/docs?pet.vet=a1-vet", 400)
case("union-filter-unknown-path", "GET", "/api/docs?pet.nosuch=1", 400)
case("union-filter-deep-path", "GET", "/api/docs?pet.kind.x=1", 400)
case("union-order-by-tag", "GET", "/api/docs?order_by=pet.kind", 400)
case("union-fields", "GET", "/api/docs?fields=pet", 200)

# -- 17. references and expand: no existence oracle, no leak, bounded ---------------------------

_BOBS = ("bob three",)  # counter 3's label
for name, value in {
    "foreign": 3,
    "missing": 99999,
    "string": "1",
    "float": 1.5,
    "bool": True,
    "object": {"num": 1},
    "list": [1],
    "negative-missing": -1,
    "huge": 2**70,
}.items():
    case(f"ref-post-{name}", "POST", "/api/docs", 422, json={"title": "t", "counter": value})
    case(f"ref-patch-{name}", "PATCH", "/api/docs/a1", 422, json={"counter": value})
case("ref-post-overflow", "POST", "/api/docs", 400, raw=b'{"title": "t", "counter": 1e400}')
case("ref-list-foreign", "POST", "/api/docs", 422, json={"title": "t", "counters": [1, 3]})
case("ref-list-missing", "POST", "/api/docs", 422, json={"title": "t", "counters": [1, 404]})
case("ref-list-too-long", "POST", "/api/docs", 422, json={"title": "t", "counters": [1] * 21})
case("ref-list-mixed", "POST", "/api/docs", 422, json={"title": "t", "counters": [1, "x"]})
case(
    "ref-list-wide-missing",
    "POST",
    "/api/docs",
    422,
    json={"title": "t", "counters": list(range(1000, 1020))},
)
case(
    "ref-bulk-foreign",
    "POST",
    "/api/docs",
    422,
    json=[{"title": "t", "counter": 1}, {"title": "u", "counter": 3}],
)
case(
    "ref-post-own",
    "POST",
    "/api/docs",
    201,
    json={"title": "t", "counter": 2, "counters": [1, 2, 10]},
    stores="clean",
)
case("ref-put-foreign", "PUT", "/api/docs/a1", 422, json={"title": "Dune", "counter": 3})
case(
    "ref-put-keeps-a-foreign-one",  # a2 already refers to counter 3 (a trusted write): kept as is
    "PATCH",
    "/api/docs/a2",
    (200, 422),
    json={"title": "Emma"},
    stores="clean",
    hides=_BOBS,
)
for path in ("/api/docs/a2", "/api/docs"):
    where = "detail" if path.endswith("a2") else "list"
    for expand in ("counter", "counters", "counter,counters", "counters,counter,counter"):
        case(
            f"expand-{where}-{expand.replace(',', '-')}",
            "GET",
            f"{path}?expand={expand}",
            (200, 400),
            hides=_BOBS,
        )
    case(f"expand-{where}-as-bob", "GET", f"{path}?expand=counter", (200, 404), user="bob")
    case(f"expand-{where}-anonymous", "GET", f"{path}?expand=counter", 401, user=None)
    case(
        f"expand-{where}-fields", "GET", f"{path}?expand=counter&fields=id", (200, 400), hides=_BOBS
    )
    case(f"expand-{where}-HEAD", "HEAD", f"{path}?expand=counter", (200, 400))
for name, expand in {
    "plain-field": "title",
    "unknown": "nosuch",
    "private": "cost",
    "embedded": "box",
    "union": "pet",
    "deeper": "counter.label",
    "deep-chain": ".".join(["counter"] * 50),
    "dot-only": ".",
    "surrogate": "%ED%A0%80",
    "nul": "counter%00",
    "many": ",".join(["counter"] * 500),
    "long": "c" * 5000,
}.items():
    case(f"expand-bad-{name}", "GET", f"/api/docs?expand={expand}", (400, 414, 431))
case("expand-empty-part", "GET", "/api/docs?expand=counter,,counter", (200, 400), hides=_BOBS)
case("expand-twice", "GET", "/api/docs?expand=counter&expand=counters", (200, 400), hides=_BOBS)
case("expand-on-counters", "GET", "/api/counters?expand=counter", 400)
case("expand-on-action", "GET", "/api/counters/low?expand=counter", (200, 400))
case("expand-with-filter-on-ref", "GET", "/api/docs?counter=3&expand=counter", 400)
case(
    "expand-in-post",
    "POST",
    "/api/docs?expand=counter",
    (201, 400),
    json={"title": "t"},
    stores="clean",
)

# -- 18. the SSE + POST fallback without a stream of one's own (issue 12) -------------------------
# (cases with an open session are in test_sse_corpus.py: a case here must get an answer)

_SID = "k" * 32
for name, (method, path, headers, body) in {
    "post-unknown-session": ("POST", f"/api/_stream/{_SID}", {"TBone-Stream-Token": "x"}, {}),
    "post-no-token": ("POST", f"/api/_stream/{_SID}", {}, {"type": "ping"}),
    "post-empty-id": ("POST", "/api/_stream/", {"TBone-Stream-Token": "x"}, {"type": "ping"}),
    "post-long-id": ("POST", "/api/_stream/" + "k" * 5000, {}, {"type": "ping"}),
    "post-surrogate-id": ("POST", "/api/_stream/%ED%A0%80", {}, {"type": "ping"}),
    "post-nul-id": ("POST", "/api/_stream/%00", {}, {"type": "ping"}),
    "post-dotdot-id": ("POST", "/api/_stream/..%2F..%2Fdocs", {}, {"title": MARK}),
    "post-deeper": ("POST", f"/api/_stream/{_SID}/x", {}, {"type": "ping"}),
    "get-unknown-session": ("GET", f"/api/_stream/{_SID}", {"TBone-Stream-Token": "x"}, None),
    "get-unknown-with-last-id": (
        "GET",
        f"/api/_stream/{_SID}?stream_token=x",
        {"Last-Event-ID": "garbage"},
        None,
    ),
    "delete-unknown": ("DELETE", f"/api/_stream/{_SID}", {"TBone-Stream-Token": "x"}, None),
    "delete-root": ("DELETE", "/api/_stream", {}, None),
    "put-root": ("PUT", "/api/_stream", {}, {"type": "ping"}),
    "patch-session": ("PATCH", f"/api/_stream/{_SID}", {}, {"type": "ping"}),
    "post-root": ("POST", "/api/_stream", {}, {"type": "ping"}),
}.items():
    options: dict[str, Any] = {"headers": headers}
    if body is not None:
        options["json"] = body
    case(f"sse-{name}", method, path, (400, 401, 403, 404, 405, 413, 414, 431), **options)
case("sse-open-bad-token", "GET", "/api/_stream?token=wrong", 401, user=None)
case(
    "sse-open-bad-bearer",
    "GET",
    "/api/_stream",
    401,
    user=None,
    headers={"Authorization": "Bearer wrong"},
)
case("sse-open-surrogate-token", "GET", "/api/_stream?token=%ED%A0%80", (400, 401), user=None)
