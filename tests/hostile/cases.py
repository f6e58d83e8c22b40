"""What a hostile HTTP case is, and how one is played against a :class:`~.target.Target`.

A case is data: a request (method, path with its query, headers, a raw or JSON body, the user it
is sent as), the status it must get (exactly, a class such as ``"4xx"``, or any of several), and
what it may store: ``"nothing"`` (the default: every stored document, private fields and
versions included, is exactly as before) or ``"clean"`` (the request may succeed, but nothing the
client must not write is stored: the marker :data:`~.app.MARK` is found nowhere, no document is
deleted, and existing documents change only at the paths the case names).

Optional ``setup`` requests run first (each must succeed); ``{etag0}``, ``{etag1}``, ... in the
case's headers are replaced by the ETags those answers carried.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from http.client import HTTPConnection, HTTPException
from typing import Any, Literal

import attrs
import httpx

from .app import MARK, TOKENS
from .target import Snapshot, Target, changed_documents

Expect = int | str | tuple[int | str, ...]
PROBLEM_JSON = "application/problem+json"
_USERS = {user: f"Bearer {token}" for token, user in TOKENS.items()}
_NO_BODY: Any = object()
_HTTPX_MAX_URL = 60_000


@attrs.frozen(kw_only=True)
class Step:
    """A setup request; it must answer 2xx."""

    method: str
    path: str
    json: Any = _NO_BODY
    user: str | None = "alice"


@attrs.frozen(kw_only=True)
class HttpCase:
    id: str
    method: str
    path: str
    expect: Expect
    #: a JSON value, sent with json.dumps (lone surrogates become \\ud800 escapes, NaN is NaN)
    json: Any = _NO_BODY
    #: raw body bytes (or text, sent as UTF-8); wins over ``json``
    raw: bytes | str | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    #: the Content-Type sent with a body; None sends none
    content_type: str | None = "application/json"
    user: str | None = "alice"
    stores: Literal["nothing", "clean"] = "nothing"
    #: with ``stores="clean"``: dotted paths of existing documents a success may change
    may_change: tuple[str, ...] = ()
    setup: tuple[Step, ...] = ()
    #: the answer must come within this many seconds
    within: float | None = None
    #: an error must be a problem document (False outside the API, where the server answers)
    problem: bool = True
    #: a 200 list answer must hold exactly this many objects (no leak, no operator smuggled)
    objects: int | None = None
    #: texts the answer must not hold (another user's data it could leak)
    hides: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if self.json is not _NO_BODY and self.raw is not None:
            raise ValueError(f"{self.id}: give json or raw, not both")


def status_matches(status: int, expect: Expect) -> bool:
    options = expect if isinstance(expect, tuple) else (expect,)
    for option in options:
        if isinstance(option, int) and status == option:
            return True
        if isinstance(option, str) and str(status)[0] == option[0] and option.endswith("xx"):
            return True
    return False


def describe(expect: Expect) -> str:
    options = expect if isinstance(expect, tuple) else (expect,)
    return " or ".join(str(o) for o in options)


def play(target: Target, case: HttpCase) -> list[str]:
    """Run ``case``; every way it went wrong, one line each (empty: it passed)."""
    before = target.ensure_baseline()
    etags = _run_setup(target, case)
    if isinstance(etags, str):
        return [etags]
    if case.setup:
        before = target.snapshot()
    started = time.monotonic()
    try:
        response = _send(target.http, case, etags)
    except (httpx.HTTPError, OSError, HTTPException) as exc:
        return [f"no answer: {type(exc).__name__}: {exc}"]
    elapsed = time.monotonic() - started
    problems = _check_answer(case, response, elapsed)
    problems += check_stored(case.stores, case.may_change, before, target)
    target.known = target.last  # the write, if any, was done before the answer came
    problems += check_still_serving(target)
    return problems


def _run_setup(target: Target, case: HttpCase) -> dict[str, str] | str:
    etags: dict[str, str] = {}
    for index, step in enumerate(case.setup):
        kwargs: dict[str, Any] = {"headers": _auth(step.user)}
        if step.json is not _NO_BODY:
            kwargs["json"] = step.json
        response = target.http.request(step.method, step.path, **kwargs)
        if not response.is_success:
            return f"setup {step.method} {step.path} got {response.status_code}: {response.text}"
        etags[f"{{etag{index}}}"] = response.headers.get("etag", "")
    return etags


def _auth(user: str | None) -> dict[str, str]:
    return {"Authorization": _USERS[user]} if user else {}


def _send(http: httpx.Client, case: HttpCase, etags: dict[str, str]) -> httpx.Response:
    headers = _auth(case.user)
    body: bytes | None = None
    if case.raw is not None:
        body = case.raw.encode("utf-8", "surrogatepass") if isinstance(case.raw, str) else case.raw
    elif case.json is not _NO_BODY:
        body = json.dumps(case.json).encode()
    if body is not None and case.content_type is not None:
        headers["Content-Type"] = case.content_type
    for name, value in case.headers.items():
        for placeholder, etag in etags.items():
            value = value.replace(placeholder, etag)
        headers[name] = value
    wire = {k: v.encode("latin-1") if not v.isascii() else v for k, v in headers.items()}
    if len(case.path) > _HTTPX_MAX_URL:
        return _send_long(http, case.method, case.path, body, wire)
    return http.request(case.method, case.path, content=body, headers=wire)


def _send_long(
    http: httpx.Client, method: str, path: str, body: bytes | None, headers: dict[str, Any]
) -> httpx.Response:
    """httpx refuses URLs over 64 kB; a hostile client does not: send it with http.client."""
    url = http.base_url
    connection = HTTPConnection(url.host, url.port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        return httpx.Response(answer.status, headers=answer.getheaders(), content=answer.read())
    finally:
        connection.close()


def _check_answer(case: HttpCase, response: httpx.Response, elapsed: float) -> list[str]:
    problems = []
    status = response.status_code
    if not status_matches(status, case.expect):
        problems.append(f"status {status}, expected {describe(case.expect)}: {_text(response)}")
    if status >= 400 and case.method != "HEAD" and case.problem:
        kind = response.headers.get("content-type", "")
        if kind != PROBLEM_JSON:
            problems.append(f"a {status} answer is {kind or 'untyped'}, not {PROBLEM_JSON}")
    if case.objects is not None and status == 200:
        found = len(response.json().get("objects", []))
        if found != case.objects:
            problems.append(f"{found} objects listed, expected {case.objects}: {_text(response)}")
    problems += [f"the answer shows {text!r}" for text in case.hides if text in response.text]
    if "Traceback" in response.text:
        problems.append("the answer shows a traceback")
    if case.within is not None and elapsed > case.within:
        problems.append(f"answered in {elapsed:.2f}s, more than {case.within}s")
    return problems


def check_stored(
    stores: str, may_change: tuple[str, ...], before: Snapshot, target: Target
) -> list[str]:
    """What was stored that should not have been (see the module docstring)."""
    target.last = None
    try:
        after = target.last = target.snapshot()
    except Exception as exc:  # a stored value broke the store itself
        return [f"the stored data can no longer be read: {type(exc).__name__}: {exc}"]
    if stores == "nothing":
        return [f"stored: {line}" for line in changed_documents(before, after)]
    problems = []
    if MARK in json.dumps(after, default=str):
        problems.append(f"stored a value the client must not write ({MARK!r} found)")
    for name, docs in before.items():
        for pk, old in docs.items():
            new = after.get(name, {}).get(pk)
            if new is None:
                problems.append(f"stored: {name} {pk} was deleted")
            elif _without(old["data"], may_change) != _without(new["data"], may_change):
                problems.append(f"stored: {name} {pk} changed: {old['data']} -> {new['data']}")
    return problems


def _without(data: dict[str, Any], paths: tuple[str, ...]) -> Any:
    copy = json.loads(json.dumps(data, default=str))
    for path in paths:
        *parents, last = path.split(".")
        node = copy
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    return copy


def check_still_serving(target: Target) -> list[str]:
    """Both users can still list a resource (each a different one: a poisoned document
    shows in the stored-data check already)."""
    problems = []
    for user, name in (("alice", "docs"), ("bob", "counters")):
        response = target.http.get(f"/api/{name}?limit=50", headers=_auth(user))
        if response.status_code != 200:
            problems.append(
                f"afterwards GET /api/{name} as {user} is {response.status_code}: {_text(response)}"
            )
    return problems


def _text(response: httpx.Response, limit: int = 300) -> str:
    text = response.text.replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "..."
