"""The hostile HTTP corpus: every case is data (see :mod:`.cases` for what the fields mean).

Grouped by what the attacker tries. Ids are stable: a failure report names the case id, the
status seen and the one expected. Users: alice owns docs a1-a3 and counters 1, 2, 10, 1960;
bob owns docs b1-b2 and counter 3 (see :data:`.app.SEED`).
"""

from __future__ import annotations

from typing import Any

from .app import MARK
from .cases import HttpCase, Step

CASES: list[HttpCase] = []
_C4 = "4xx"
_OK_OR_REFUSED = ("2xx", "4xx")  # either is right; a 5xx, a leak or a stored value is not
_PUT_FIELDS = (
    "title",
    "year",
    "code",
    "serial",
    "tags",
    "extra",
    "boxes",
    "secret",
    "box.label",
    "pet",
    "counter",
    "counters",
)


def case(case_id: str, method: str, path: str, expect: Any, **options: Any) -> None:
    if any(c.id == case_id for c in CASES):
        raise ValueError(f"two hostile HTTP cases are named {case_id!r}")
    CASES.append(HttpCase(id=case_id, method=method, path=path, expect=expect, **options))


def _deep_list(depth: int) -> str:
    return "[" * depth + "]" * depth


def _deep_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


# -- 1. lone UTF-16 surrogates, anywhere (issue 8 item 3) ----------------------------------------

_LONE = {"high": "\ud800", "low": "\udfff", "reversed": "\udc00\ud800", "high-then-a": "\ud800A"}
for name, bad in _LONE.items():
    case(f"surrogate-{name}-in-title", "POST", "/api/docs", 400, json={"title": bad})
    case(f"surrogate-{name}-in-patch", "PATCH", "/api/docs/a1", 400, json={"title": f"x{bad}"})
    case(f"surrogate-{name}-as-key", "POST", "/api/docs", 400, json={"title": "t", bad: 1})
for where, body in {
    "put-title": ("PUT", "/api/docs/a1", {"title": "\ud800"}),
    "patch-key": ("PATCH", "/api/docs/a1", {"\ud800": "x"}),
    "untyped-key": ("POST", "/api/docs", {"title": "t", "extra": {"\ud800": 1}}),
    "untyped-value": ("POST", "/api/docs", {"title": "t", "extra": {"k": "\ud800"}}),
    "untyped-deep-value": ("POST", "/api/docs", {"title": "t", "extra": {"k": [["\ud800"]]}}),
    "list-item": ("POST", "/api/docs", {"title": "t", "tags": ["ok", "\udc00"]}),
    "embedded-value": ("POST", "/api/docs", {"title": "t", "box": {"label": "\ud800"}}),
    "embedded-key": ("POST", "/api/docs", {"title": "t", "box": {"\ud800": 1}}),
    "embedded-list": ("POST", "/api/docs", {"title": "t", "boxes": [{"label": "\ud800"}]}),
    "bulk-second-item": ("POST", "/api/docs", [{"title": "fine"}, {"title": "\ud800"}]),
    "counter-label": ("POST", "/api/counters", {"num": 77, "label": "\ud800"}),
    "patch-embedded": ("PATCH", "/api/docs/a1", {"box": {"label": "\ud800"}}),
    "unique-field": ("POST", "/api/docs", {"title": "t", "code": "\ud800"}),
}.items():
    method, path, value = body
    case(f"surrogate-in-{where}", method, path, 400, json=value)
case("surrogate-utf8-bytes-in-body", "POST", "/api/docs", 400, raw=b'{"title": "\xed\xa0\x80"}')
case("invalid-utf8-in-body", "POST", "/api/docs", 400, raw=b'{"title": "\xff\xfe"}')
case("latin1-body", "POST", "/api/docs", 400, raw='{"title": "caf\xe9"}'.encode("latin-1"))
case("utf16-body", "POST", "/api/docs", 400, raw='{"title": "x"}'.encode("utf-16"))
for method in ("GET", "PATCH", "PUT", "DELETE", "HEAD"):
    body = {"json": {"title": "x"}} if method in ("PATCH", "PUT") else {}
    case(f"surrogate-in-url-path-{method}", method, "/api/docs/%ED%A0%80", (400, 404), **body)
case("surrogate-in-resource-name", "GET", "/api/%ED%A0%80", (400, 404))
case("surrogate-in-int-path", "GET", "/api/counters/%ED%A0%80", (400, 404))
for name, query in {
    "filter-value": "title=%ED%A0%80",
    "in-value": "title__in=a,%ED%A0%80",
    "search": "q=%ED%A0%80",
    "param-name": "%ED%A0%80=1",
    "order_by": "order_by=%ED%A0%80",
    "fields": "fields=%ED%A0%80",
    "cursor": "cursor=%ED%A0%80",
    "limit": "limit=%ED%A0%80",
    "startswith": "title__startswith=%ED%A0%80",
    "embedded-filter": "box.label=%ED%A0%80",
}.items():
    case(f"surrogate-in-query-{name}", "GET", f"/api/docs?{query}", 400)
case("surrogate-in-detail-query", "GET", "/api/docs/a1?%ED%A0%80=1", 400)
case("invalid-utf8-in-query", "GET", "/api/docs?title=%FF%FE", 400)
case(
    "valid-surrogate-pair-is-fine",
    "POST",
    "/api/docs",
    201,
    stores="clean",
    json={"title": "\U0001f600"},
)

# -- 2. numbers JSON cannot carry (item 3) -------------------------------------------------------

for name, literal in {
    "1e400": "1e400",
    "minus-1e400": "-1e400",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "minus-Infinity": "-Infinity",
    "1e999999": "1e999999",
}.items():
    for field in ("extra", "year", "cost"):
        value = f'{{"k": {literal}}}' if field == "extra" else literal
        raw = f'{{"title": "t", "{field}": {value}}}'
        case(f"number-{name}-in-{field}", "POST", "/api/docs", 400, raw=raw)
    case(f"number-{name}-in-patch", "PATCH", "/api/docs/a1", 400, raw=f'{{"extra": [{literal}]}}')
case("number-nan-in-bulk", "POST", "/api/docs", 400, raw='[{"title": "t", "year": NaN}]')
case(
    "number-10e5000-digits",
    "POST",
    "/api/docs",
    400,
    raw='{"title": "t", "serial": 1' + "0" * 5000 + "}",
)
case(
    "number-exponent-for-int",
    "POST",
    "/api/docs",
    _OK_OR_REFUSED,
    stores="clean",
    raw='{"title": "t", "year": 1e3}',
)
case("number-float-for-int", "POST", "/api/docs", _C4, json={"title": "t", "year": 1965.5})
case("number-bool-for-int", "POST", "/api/docs", _C4, json={"title": "t", "year": True})
case(
    "number-text-for-int",
    "POST",
    "/api/docs",
    _OK_OR_REFUSED,
    stores="clean",
    json={"title": "t", "year": "1965"},
)

# -- 3. JSON nested deeper than a parser's stack (item 3) ---------------------------------------

for depth in (500, 975, 5000, 100_000):
    case(
        f"deep-list-{depth}",
        "POST",
        "/api/docs",
        _OK_OR_REFUSED,
        stores="clean",
        raw=f'{{"title": "t", "extra": {{"k": {_deep_list(depth)}}}}}',
    )
    case(
        f"deep-object-{depth}",
        "POST",
        "/api/docs",
        _OK_OR_REFUSED,
        stores="clean",
        raw=f'{{"title": "t", "extra": {_deep_object(depth)}}}',
    )
    case(f"deep-top-level-{depth}", "POST", "/api/docs", _C4, raw=_deep_list(depth))
    case(
        f"deep-patch-{depth}",
        "PATCH",
        "/api/docs/a1",
        _OK_OR_REFUSED,
        stores="clean",
        may_change=("extra",),
        raw=f'{{"extra": {{"k": {_deep_list(depth)}}}}}',
    )
case(
    "deep-in-embedded",
    "POST",
    "/api/docs",
    _C4,
    raw='{"title": "t", "box": ' + _deep_object(975) + "}",
)
case(
    "deep-in-tags", "POST", "/api/docs", _C4, raw='{"title": "t", "tags": ' + _deep_list(975) + "}"
)

# -- 4. HTTP validators: If-Match and ETags (item 7) ---------------------------------------------

_GET_A1 = (Step(method="GET", path="/api/docs/a1"),)
for name, tag in {
    "superscript-digit": '"v\u00b2"',
    "arabic-digit": '"v\u0661"',
    "full-width-digit": '"v\uff11"',
    "weak-version": 'W/"v1"',
    "leading-zero": '"v01"',
    "plus-sign": '"v+1"',
    "zero": '"v0"',
    "negative": '"v-1"',
    "exponent": '"v1e0"',
    "unquoted": "v1",
    "empty-quotes": '""',
    "garbage": "junk!",
    "version-1-underscore": '"v1_0"',
    "many-tags-none-current": ", ".join(f'"v{n}"' for n in range(100, 300)),
}.items():
    for method in ("PATCH", "PUT", "DELETE"):
        body = {"json": {"title": "new"}} if method != "DELETE" else {}
        case(
            f"if-match-{name}-{method}",
            method,
            "/api/docs/a1",
            412,
            headers={"If-Match": tag.encode("utf-8").decode("latin-1")},
            **body,
        )
case(
    "if-match-weak-of-current-etag",
    "PATCH",
    "/api/docs/a1",
    412,
    json={"title": "new"},
    setup=_GET_A1,
    headers={"If-Match": "W/{etag0}"},
)
case(
    "if-match-current-etag-second-in-list",
    "PATCH",
    "/api/docs/a1",
    200,
    json={"title": "n"},
    setup=_GET_A1,
    headers={"If-Match": '"nope", {etag0}'},
    stores="clean",
    may_change=("title",),
)
case(
    "if-match-current-etag-third-in-list",
    "PATCH",
    "/api/counters/2",
    200,
    setup=(Step(method="GET", path="/api/counters/2"),),
    headers={"If-Match": '"a", "b", {etag0}'},
    json={"label": "relabelled"},
    stores="clean",
    may_change=("label",),
)
case(
    "if-match-star-on-cross-user-row",
    "PATCH",
    "/api/docs/b1",
    (404, 412),
    json={"title": "x"},
    headers={"If-Match": "*"},
)
_RECREATE = (
    Step(method="POST", path="/api/counters", json={"num": 500, "label": "first"}),
    Step(method="DELETE", path="/api/counters/500"),
    Step(method="POST", path="/api/counters", json={"num": 500, "label": "second"}),
)
for method in ("PUT", "PATCH", "DELETE"):
    body = {"json": {"num": 500, "label": "third"}} if method != "DELETE" else {}
    case(
        f"etag-after-delete-and-recreate-{method}",
        method,
        "/api/counters/500",
        412,
        setup=_RECREATE,
        headers={"If-Match": "{etag0}"},
        **body,
    )
case(
    "if-none-match-old-etag-after-recreate",
    "GET",
    "/api/counters/500",
    200,
    setup=_RECREATE,
    headers={"If-None-Match": "{etag0}"},
)
for name, tag in {"superscript": '"v\u00b2"', "garbage": "junk!", "weak": 'W/"zz"'}.items():
    case(
        f"if-none-match-{name}",
        "GET",
        "/api/docs/a1",
        200,
        headers={"If-None-Match": tag.encode("utf-8").decode("latin-1")},
    )

# -- 5. strict integers in queries and paths (item 8) --------------------------------------------

_BAD_INTS = {
    "full-width": "%EF%BC%91%EF%BC%99%EF%BC%96%EF%BC%90",  # 1960 in full-width digits
    "arabic": "%D9%A1%D9%A9%D9%A6%D9%A0",  # 1960 in Arabic-Indic digits
    "plus": "%2B1960",
    "leading-space": "%201960",
    "trailing-space": "1960%20",
    "underscore": "1_960",
    "exponent": "1960e0",
    "hex": "0x7a8",
    "float": "1960.0",
    "tab": "%091960",
}
for name, text in _BAD_INTS.items():
    case(f"int-query-{name}", "GET", f"/api/docs?year={text}", 400)
    case(f"int-query-gte-{name}", "GET", f"/api/docs?year__gte={text}", 400)
    case(f"int-query-in-{name}", "GET", f"/api/counters?num__in=1,{text}", 400)
    case(f"int-limit-{name}", "GET", f"/api/docs?limit={text.replace('1960', '5')}", 400)
    case(f"int-offset-{name}", "GET", f"/api/docs?offset={text.replace('1960', '1')}", 400)
    for method in ("GET", "PATCH", "DELETE"):
        body = {"json": {"label": "x"}} if method == "PATCH" else {}
        case(f"int-path-{name}-{method}", method, f"/api/counters/{text}", (400, 404), **body)
for name, text in {
    "one-full-width": "%EF%BC%91",
    "one-arabic": "%D9%A1",
    "one-plus": "%2B1",
    "ten-underscore": "1_0",
    "one-space": "%201",
}.items():
    case(f"int-path-alias-{name}", "GET", f"/api/counters/{text}", (400, 404))
    case(
        f"int-path-alias-{name}-PUT",
        "PUT",
        f"/api/counters/{text}",
        (400, 404),
        json={"num": 1, "label": "x"},
    )
for param in ("limit", "offset", "year", "serial"):
    case(f"empty-{param}", "GET", f"/api/docs?{param}=", 400)
case("empty-cursor", "GET", "/api/docs?cursor=", (200, 400))
case("limit-negative", "GET", "/api/docs?limit=-1", 400)
case("limit-over-max", "GET", "/api/docs?limit=51", 400)
case("limit-beyond-int64", "GET", "/api/docs?limit=99999999999999999999999", 400)
case("offset-beyond-int64", "GET", "/api/docs?offset=99999999999999999999999", 400)
case("limit-twice", "GET", "/api/docs?limit=5&limit=x", 400)
for name, query in {
    "unknown": "nope=1",
    "filter": "year=1965",
    "bad-filter": "year=abc",
    "limit": "limit=x",
    "private-fields": "fields=note",
    "write-only-fields": "fields=secret",
}.items():
    case(f"detail-query-{name}", "GET", f"/api/docs/a1?{query}", 400)
    case(f"detail-query-{name}-int-pk", "GET", f"/api/counters/1?{query}", 400)

# -- 6. primary keys that do not match the URL, and nulls (item 8) ------------------------------

for name, (path, value) in {
    "doc-other-id": ("/api/docs/a1", {"id": "a2", "title": "x"}),
    "doc-cross-user-id": ("/api/docs/a1", {"id": "b1", "title": "x"}),
    "counter-other-num": ("/api/counters/1", {"num": 2, "label": "x"}),
    "counter-cross-user-num": ("/api/counters/1", {"num": 3, "label": "x"}),
    "counter-num-as-text": ("/api/counters/1", {"num": "2", "label": "x"}),
}.items():
    case(f"put-different-pk-{name}", "PUT", path, 422, json=value)
    case(f"patch-different-pk-{name}", "PATCH", path, 422, json=value)
case("put-null-pk", "PUT", "/api/counters/1", _C4, json={"num": None, "label": "x"})
case("post-null-pk", "POST", "/api/counters", _C4, json={"num": None})
case("post-missing-pk", "POST", "/api/counters", _C4, json={"label": "x"})
case("post-bool-pk", "POST", "/api/counters", _C4, json={"num": True})
case("post-float-pk", "POST", "/api/counters", _C4, json={"num": 1.5})
case("post-text-pk", "POST", "/api/counters", _C4, json={"num": "abc"})
case(
    "post-generated-id-ignored",
    "POST",
    "/api/docs",
    (201, 422),
    stores="clean",
    json={"id": MARK, "title": "t"},
)

# -- 7. integers beyond int64: primary keys and unique fields (item 4) ---------------------------

for name, number in {
    "2**63": 2**63,
    "2**64": 2**64,
    "2**64+1": 2**64 + 1,  # wraps to 1 (alice's counter) if truncated
    "2**64+3": 2**64 + 3,  # wraps to 3 (bob's counter)
    "-2**63-1": -(2**63) - 1,
    "10**30": 10**30,
}.items():
    case(
        f"int64-pk-{name}",
        "POST",
        "/api/counters",
        (201, 400, 422),
        stores="clean",
        json={"num": number, "label": "big"},
    )
    case(
        f"int64-unique-{name}",
        "POST",
        "/api/docs",
        (201, 400, 422),
        stores="clean",
        json={"title": "big", "serial": number},
    )
    case(f"int64-path-{name}", "GET", f"/api/counters/{number}", (400, 404))
    case(f"int64-filter-{name}", "GET", f"/api/docs?serial={number}", (200, 400))
case(
    "int64-patch-unique",
    "PATCH",
    "/api/docs/a1",
    (200, 400, 422),
    stores="clean",
    may_change=("serial",),
    json={"serial": 2**64 + 2},
)
case("int64-in-filter", "GET", f"/api/docs?serial__in=1,{2**64 + 1},{2**70}", (200, 400))
case("int64-gte-filter", "GET", f"/api/docs?serial__gte={2**64 + 1}", (200, 400))

# -- 8. private and read-only fields, at every depth (item 1) ------------------------------------

_INJECT: dict[str, dict[str, Any]] = {
    "top-private": {"note": MARK},
    "top-private-float": {"cost": 666.0, "note": MARK},
    "top-read-only": {"status": MARK},
    "top-owner": {"owner": MARK},
    "box-private": {"box": {"label": "l", "hidden": MARK}},
    "box-read-only": {"box": {"label": "l", "stamp": MARK}},
    "boxes-private": {"boxes": [{"label": "l", "hidden": MARK}]},
    "boxes-read-only": {"boxes": [{"label": "l", "stamp": MARK}]},
    "boxes-second-private": {"boxes": [{"label": "l"}, {"hidden": MARK}]},
    "dotted-key": {"box.hidden": MARK},
    "mongo-set": {"$set": {"note": MARK}},
}
for name, inject in _INJECT.items():
    case(
        f"inject-{name}-POST",
        "POST",
        "/api/docs",
        (201, 422),
        stores="clean",
        json={"title": "t", **inject},
    )
    case(
        f"inject-{name}-bulk",
        "POST",
        "/api/docs",
        (201, 422),
        stores="clean",
        json=[{"title": "ok"}, {"title": "t", **inject}],
    )
    case(
        f"inject-{name}-PATCH",
        "PATCH",
        "/api/docs/a1",
        (200, 422),
        stores="clean",
        may_change=("box.label", "boxes"),
        json=inject,
    )
    put = {"title": "t", "box": {"label": "kept"}, "boxes": [{"label": "kept"}], **inject}
    case(
        f"inject-{name}-PUT",
        "PUT",
        "/api/docs/a1",
        (200, 422),
        stores="clean",
        may_change=_PUT_FIELDS,
        json=put,
    )
case(
    "patch-embedded-keeps-server-values",
    "PATCH",
    "/api/docs/a1",
    200,
    stores="clean",
    may_change=("box.label",),
    json={"box": {"label": "relabelled"}},
)
case(
    "put-embedded-keeps-server-values",
    "PUT",
    "/api/docs/a1",
    200,
    stores="clean",
    may_change=_PUT_FIELDS,
    json={"title": "Dune", "box": {"label": "relabelled"}},
)
case(
    "patch-owner-to-other-user",
    "PATCH",
    "/api/docs/a1",
    (200, 422),
    stores="clean",
    json={"owner": "bob"},
)
case(
    "post-owner-other-user",
    "POST",
    "/api/docs",
    (201, 422),
    stores="clean",
    json={"title": "t", "owner": "bob", "note": MARK},
)
case(
    "counter-private-hits",
    "POST",
    "/api/counters",
    (201, 422),
    stores="clean",
    json={"num": 600, "hits": 666, "label": MARK},
)

# -- 9. operators, filters, orderings and fields a client may not use (items 2, DESIGN) ----------

for name, query in {
    "mongo-ne-as-value": "title=%7B%22%24ne%22%3A+null%7D",
    "bracket-operator": "title%5B%24ne%5D=x",
    "where": "%24where=1",
    "dollar-lookup": "title__%24ne=x",
    "regex-lookup": "title__regex=.%2A",
    "unknown-lookup": "title__gt=a",
    "owner-not-filterable": "owner=bob",
    "private-filter": "note=x",
    "private-float-filter": "cost__gte=0",
    "write-only-filter": "secret=x",
    "embedded-private-filter": "box.hidden=x",
    "embedded-read-only-filter": "box.stamp=server",
    "embedded-dunder-private": "box__hidden=x",
    "order-private": "order_by=note",
    "order-private-desc": "order_by=-cost",
    "order-write-only": "order_by=secret",
    "order-embedded-private": "order_by=box.hidden",
    "order-not-allowed": "order_by=owner",
    "order-dollar": "order_by=%24natural",
    "fields-private": "fields=title,note",
    "fields-write-only": "fields=secret",
    "fields-embedded-private": "fields=box.hidden",
    "fields-dunder": "fields=__class__",
    "search-unsupported-on-counters": "q=x",
}.items():
    path = "/api/counters" if "counters" in name else "/api/docs"
    if name == "mongo-ne-as-value":
        case(f"query-{name}", "GET", f"{path}?{query}", 200, objects=0)
    else:
        case(f"query-{name}", "GET", f"{path}?{query}", 400)
for name, value in {
    "operator-object": {"$ne": None},
    "operator-in-list": [{"$gt": ""}],
    "where-string": "$where",
}.items():
    case(
        f"body-{name}-as-title",
        "POST",
        "/api/docs",
        _C4 if name != "where-string" else 201,
        stores="clean",
        json={"title": value},
    )
case(
    "body-dollar-unknown-field",
    "POST",
    "/api/docs",
    (201, 422),
    stores="clean",
    json={"title": "t", "$where": MARK},
)
case(
    "body-untyped-dollar-keys",
    "POST",
    "/api/docs",
    _OK_OR_REFUSED,
    stores="clean",
    json={"title": "t", "extra": {"$set": {"owner": "bob"}, "a.b": 1, "$where": "1"}},
)
case(
    "patch-untyped-dollar-keys",
    "PATCH",
    "/api/docs/a1",
    _OK_OR_REFUSED,
    stores="clean",
    may_change=("extra",),
    json={"extra": {"$set": {"owner": "bob"}, "x.y": {"$gt": 1}}},
)
for pattern in ("%25", "_", "%5C", "%25%25", "%5B%5D"):
    case(f"like-wildcard-search-{pattern}", "GET", f"/api/docs?q={pattern}", 200, objects=0)
    case(
        f"like-wildcard-icontains-{pattern}",
        "GET",
        f"/api/docs?title__icontains={pattern}",
        200,
        objects=0,
    )

# -- 10. bounded work: huge lookups and searches (items 4, 5) ------------------------------------

# Over HTTP the server's own request-line limit refuses it (not a problem document).
case(
    "in-100000-values",
    "GET",
    "/api/docs?year__in=" + ",".join(map(str, range(100_000))),
    _C4,
    within=10,
    problem=False,
)
case(
    "in-1000-values",
    "GET",
    "/api/docs?year__in=" + ",".join(map(str, range(1000))),
    (200, 400),
    within=5,
)
case(
    "in-1500-titles",
    "GET",
    "/api/docs?title__in=" + ",".join("t" * 3 for _ in range(1500)),
    (200, 400),
    within=5,
)
case(
    "search-2000-words",
    "GET",
    "/api/docs?q=" + "+".join("ab" for _ in range(2000)),
    (200, 400),
    within=5,
)
case(
    "search-2000-distinct-words",
    "GET",
    "/api/docs?q=" + "+".join(f"w{n}" for n in range(1200)),
    (200, 400),
    within=5,
)
case(
    "many-filters",
    "GET",
    "/api/docs?" + "&".join(f"year={n}" for n in range(700)),
    (200, 400),
    within=5,
)
case("long-search-term", "GET", "/api/docs?q=" + "x" * 7000, (200, 400, 414, 431), within=5)

# -- 11. scopes: another user's rows (no leak, nothing changed) ----------------------------------

for who, pk, counter in (("alice", "b1", 3), ("bob", "a1", 1)):
    for method in ("GET", "HEAD", "PATCH", "PUT", "DELETE"):
        body = {"json": {"title": "mine"}} if method in ("PATCH", "PUT") else {}
        case(f"cross-user-{who}-{method}-doc", method, f"/api/docs/{pk}", 404, user=who, **body)
        body = {"json": {"num": counter, "label": "mine"}} if method in ("PATCH", "PUT") else {}
        case(
            f"cross-user-{who}-{method}-counter",
            method,
            f"/api/counters/{counter}",
            404,
            user=who,
            **body,
        )
    # RFC 9110 lets "*" on a row the caller cannot see fail as on a missing one: 412
    case(
        f"cross-user-{who}-if-match-star",
        "DELETE",
        f"/api/docs/{pk}",
        (404, 412),
        user=who,
        headers={"If-Match": "*"},
    )
for name, query in {
    "code": "code=B-1",
    "code-in": "code__in=B-1,B-2",
    "title": "title=Kindred",
    "search": "q=Kindred",
    "serial": "serial=11",
    "serial-gte": "serial__gte=11",
}.items():
    case(f"cross-user-list-{name}", "GET", f"/api/docs?{query}", 200, objects=0)
case("cross-user-unique-code", "POST", "/api/docs", _C4, json={"title": "t", "code": "B-1"})
case("cross-user-client-key", "POST", "/api/counters", _C4, json={"num": 3, "label": "x"})
case("cross-user-patch-unique", "PATCH", "/api/docs/a1", _C4, json={"code": "B-1"})
case("anonymous-list", "GET", "/api/docs", 401, user=None)
case("anonymous-detail", "GET", "/api/docs/a1", 401, user=None)
case("anonymous-create", "POST", "/api/docs", 401, user=None, json={"title": "t"})
case("anonymous-delete", "DELETE", "/api/docs/a1", 401, user=None)
for name, header in {
    "bad-token": "Bearer nope",
    "empty-bearer": "Bearer",
    "basic": "Basic YWxpY2U6YWxpY2U=",
    "token-prefix": "Bearer alice",
    "token-lowercase-scheme-wrong": "bearer alice-token-x",
    "two-tokens": "Bearer alice-token, Bearer bob-token",
    "latin1-token": "Bearer alic\xe9",
}.items():
    case(f"auth-{name}", "GET", "/api/docs", 401, user=None, headers={"Authorization": header})
    case(
        f"auth-{name}-write",
        "DELETE",
        "/api/docs/a1",
        401,
        user=None,
        headers={"Authorization": header},
    )

# -- 12. unique values and atomic bulk writes ----------------------------------------------------

case("unique-code-taken", "POST", "/api/docs", 409, json={"title": "t", "code": "A-1"})
case("unique-serial-taken", "POST", "/api/docs", 409, json={"title": "t", "serial": 1})
case("unique-patch-taken", "PATCH", "/api/docs/a2", 409, json={"code": "A-1"})
case("unique-client-key-taken", "POST", "/api/counters", 409, json={"num": 1})
case(
    "bulk-duplicate-codes",
    "POST",
    "/api/docs",
    _C4,
    json=[{"title": "x", "code": "Z-1"}, {"title": "y", "code": "Z-1"}],
)
case(
    "bulk-second-taken",
    "POST",
    "/api/docs",
    _C4,
    json=[{"title": "x", "code": "Z-2"}, {"title": "y", "code": "A-1"}],
)
case("bulk-second-invalid", "POST", "/api/docs", 422, json=[{"title": "x"}, {"title": ""}])
case("bulk-duplicate-client-keys", "POST", "/api/counters", _C4, json=[{"num": 90}, {"num": 90}])
case("bulk-too-long", "POST", "/api/docs", 413, json=[{"title": f"t{n}"} for n in range(11)])
case("bulk-10000", "POST", "/api/docs", 413, json=[{"title": "t"} for _ in range(10_000)])
case("bulk-not-objects", "POST", "/api/docs", _C4, json=[1, "two", None])
case("bulk-nested-lists", "POST", "/api/docs", _C4, json=[[{"title": "t"}]])
case("bulk-empty", "POST", "/api/docs", _OK_OR_REFUSED, json=[])

# -- 13. content types and sizes -----------------------------------------------------------------

for name, kind in {
    "text": "text/plain",
    "xml": "application/xml",
    "form": "application/x-www-form-urlencoded",
    "multipart": "multipart/form-data; boundary=x",
    "jsonx": "application/jsonx",
    "json-in-param": "text/plain; type=application/json",
    "empty": "",
}.items():
    for method, path in (("POST", "/api/docs"), ("PATCH", "/api/docs/a1"), ("PUT", "/api/docs/a1")):
        case(
            f"content-type-{name}-{method}",
            method,
            path,
            415,
            raw=b'{"title": "t"}',
            content_type=kind,
        )
case("content-type-missing", "POST", "/api/docs", 415, raw=b'{"title": "t"}', content_type=None)
case(
    "content-type-upper-case",
    "POST",
    "/api/docs",
    201,
    raw=b'{"title": "t"}',
    content_type="APPLICATION/JSON",
    stores="clean",
)
case(
    "content-type-charset",
    "POST",
    "/api/docs",
    201,
    raw=b'{"title": "t"}',
    content_type="application/json; charset=utf-8",
    stores="clean",
)
_LIMIT = 1 << 20
case("body-limit-plus-one", "POST", "/api/docs", 413, raw=b'{"title": "' + b"x" * _LIMIT + b'"}')
case("body-20-mb", "POST", "/api/docs", 413, raw=b'{"title": "' + b"x" * (20 << 20) + b'"}')
case("body-2-mb-patch", "PATCH", "/api/docs/a1", 413, raw=b'{"title": "' + b"x" * (2 << 20) + b'"}')
case("body-long-title", "POST", "/api/docs", 422, json={"title": "x" * 10_000})
case(
    "body-many-keys",
    "POST",
    "/api/docs",
    _OK_OR_REFUSED,
    stores="clean",
    json={"title": "t", "extra": {f"k{n}": n for n in range(30_000)}},
    within=10,
)
case("body-huge-key", "POST", "/api/docs", _C4, json={"title": "t", "k" * 500_000: 1})

# -- 14. classic: methods, junk, shapes, types ---------------------------------------------------

for method, path in (
    ("DELETE", "/api/docs"),
    ("PUT", "/api/docs"),
    ("PATCH", "/api/docs"),
    ("POST", "/api/docs/a1"),
    ("PROPFIND", "/api/docs"),
    ("TRACE", "/api/docs/a1"),
    ("DELETE", "/api"),
    ("POST", "/api/openapi.json"),
):
    case(f"method-{method}-{path}", method, path, 405, json={"title": "t"})
for name, raw in {
    "trailing-junk": b'{"title": "t"} junk',
    "trailing-brace": b'{"title": "t"}}',
    "two-documents": b'{"title": "t"}{"title": "u"}',
    "truncated": b'{"title": "t"',
    "single-quotes": b"{'title': 't'}",
    "trailing-comma": b'{"title": "t",}',
    "comment": b'{"title": "t" /* x */}',
    "bare-word": b"title",
    "nul-byte": b'{"title": "t"}\x00',
    "control-char-in-string": b'{"title": "a\x01b"}',
    "empty": b"",
    "whitespace-only": b"   \n ",
    "bom": b'\xef\xbb\xbf{"title": "t"}',
}.items():
    case(f"junk-{name}", "POST", "/api/docs", 400, raw=raw)
    case(f"junk-{name}-patch", "PATCH", "/api/docs/a1", 400, raw=raw)
for name, value in {
    "null": None,
    "number": 1,
    "string": "doc",
    "true": True,
    "array-in-patch": [{"title": "t"}],
}.items():
    case(f"shape-{name}-patch", "PATCH", "/api/docs/a1", _C4, json=value)
    case(f"shape-{name}-put", "PUT", "/api/docs/a1", _C4, json=value)
    if name != "array-in-patch":
        case(f"shape-{name}-post", "POST", "/api/docs", _C4, json=value)
for name, value in {
    "title-null": {"title": None},
    "title-missing": {"year": 1},
    "title-empty": {"title": ""},
    "title-number": {"title": 5},
    "title-list": {"title": ["a"]},
    "title-object": {"title": {"a": 1}},
    "year-negative": {"title": "t", "year": -1},
    "year-too-big": {"title": "t", "year": 3001},
    "tags-string": {"title": "t", "tags": "scifi"},
    "tags-numbers": {"title": "t", "tags": [1, 2]},
    "tags-null-item": {"title": "t", "tags": [None]},
    "box-list": {"title": "t", "box": [1]},
    "box-string": {"title": "t", "box": "box"},
    "boxes-object": {"title": "t", "boxes": {"label": "l"}},
    "extra-list": {"title": "t", "extra": [1]},
    "unknown-field": {"title": "t", "nope": 1},
    "embedded-unknown-field": {"title": "t", "box": {"nope": 1}},
}.items():
    case(f"type-{name}", "POST", "/api/docs", _C4, json=value)
    if name != "title-missing":
        patch = {k: v for k, v in value.items() if k != "title" or name.startswith("title")}
        case(f"type-{name}-patch", "PATCH", "/api/docs/a1", _C4, json=patch)
for name, path in {
    "extra-segment": "/api/docs/a1/extra",
    "double-slash": "/api/docs//a1",
    "dot-dot": "/api/docs/%2e%2e",
    "encoded-slash": "/api/docs/a1%2Fb1",
    "nul": "/api/docs/a1%00",
    "long-pk": "/api/docs/" + "x" * 5000,
    "no-such-resource": "/api/nothing",
    "outside-prefix": "/nothing",
    "semicolon": "/api/docs/a1;b1",
    "backslash": "/api/docs/a1%5Cb1",
}.items():
    outside = {"problem": False} if name == "outside-prefix" else {}
    case(f"path-{name}", "GET", path, (400, 404, 414, 431), **outside)
    case(f"path-{name}-DELETE", "DELETE", path, (400, 404, 405, 414, 431), **outside)
for name, title in {
    "nul-inside": "a\x00b",
    "rtl-override": "\u202etxet",
    "combining": "e\u0301" * 50,
    "emoji": "\U0001f4da\U0001f525",
    "zero-width": "\u200b\ufeff",
    "astral": "\U00010348",
    "line-separator": "a\u2028b",
}.items():
    case(
        f"unicode-{name}",
        "POST",
        "/api/docs",
        (201, 400, 422),
        stores="clean",
        json={"title": title},
    )
case("bad-cursor-garbage", "GET", "/api/docs?cursor=garbage", 400)
case("bad-cursor-base64-json", "GET", "/api/docs?cursor=eyJ4IjogMX0", 400)
case("bad-cursor-nul", "GET", "/api/docs?cursor=%00", 400)
case("bad-cursor-long", "GET", "/api/docs?cursor=" + "A" * 6000, (400, 414, 431))
case("bad-cursor-with-offset", "GET", "/api/docs?cursor=garbage&offset=2", 400)
case("bad-cursor-json-array", "GET", "/api/docs?cursor=%5B1%2C2%5D", 400)
case("bad-cursor-counters", "GET", "/api/counters?order_by=num&cursor=WzFd", 400)
