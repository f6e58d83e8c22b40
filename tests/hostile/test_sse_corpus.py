"""The hostile corpus of the SSE + POST fallback, with a session of alice's open: POSTs with
the wrong token, another session's token, junk bodies, too many frames, writes smuggling
values a client must not set. Each must get its status, store nothing it must not, and leave
the session serving (a ping POSTed afterwards is answered on the stream).

The fallback is transport-level: this module runs on every adapter, on the memory store only.
"""

from __future__ import annotations

import asyncio
from typing import Any

import attrs
import httpx
import pytest

from tbone.testing.transport.sseharness import FallbackHarness, StreamClient

from .app import ALICE, BOB, MARK
from .cases import check_stored, status_matches
from .target import Target

HOSTILE_STORES = ("memory",)
_OTHER = "(the other session's token)"


@attrs.frozen(kw_only=True)
class SseCase:
    id: str
    expect: int | str | tuple[int | str, ...]
    frames: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"
    token: str | None = None  # None: the session's own; "": none at all
    headers: dict[str, str] = attrs.field(factory=dict)
    session: str | None = None  # None: the session's own id
    #: the frame the stream must show next (its type), when the POST was accepted
    then: str | None = None
    stores: str = "nothing"


def _request(doc: Any, frame_id: int = 1) -> dict[str, Any]:
    return {"type": "request", "id": frame_id, "method": "POST", "path": "/api/docs", "body": doc}


CASES = [
    SseCase(id="wrong-token", expect=404, frames={"type": "ping"}, token="x" * 32),
    SseCase(id="no-token", expect=404, frames={"type": "ping"}, token=""),
    SseCase(id="other-sessions-token", expect=404, frames={"type": "ping"}, token=_OTHER),
    SseCase(id="token-with-surrogate", expect=(400, 404), frames={}, token="\udc80"),
    SseCase(id="other-session-id", expect=404, frames={"type": "ping"}, session="k" * 32),
    SseCase(
        id="bobs-bearer-own-token", expect=(202, 403, 404), frames={"type": "ping"}, headers=BOB
    ),
    SseCase(id="not-json", expect=400, raw=b"ping"),
    SseCase(id="empty-body", expect=400, raw=b""),
    SseCase(id="empty-array", expect=400, frames=[]),
    SseCase(id="text-plain", expect=415, raw=b'{"type": "ping"}', content_type="text/plain"),
    SseCase(id="surrogate", expect=400, raw=b'{"type": "ping", "x": "\\ud800"}'),
    SseCase(id="overflow", expect=400, raw=b'{"type": "ping", "x": 1e400}'),
    SseCase(id="deep", expect=400, raw=b"[" * 5000 + b"]" * 5000),
    SseCase(id="too-many-frames", expect=413, frames=[{"type": "ping"}] * 101),
    SseCase(id="too-large", expect=413, frames={"type": "ping", "pad": "x" * (1 << 21)}),
    SseCase(id="frame-not-object", expect=(202, 400), frames=[1], then="error"),
    SseCase(id="frame-unknown-type", expect=202, frames={"type": "steal"}, then="error"),
    SseCase(id="frame-number", expect=(202, 400), then="error", frames=5),
    SseCase(id="frame-string", expect=(202, 400), then="error", frames="ping"),
    SseCase(id="frame-null", expect=(202, 400), then="error", frames=None, raw=b"null"),
    SseCase(
        id="request-private-field",
        expect=202,
        then="response",
        stores="clean",
        frames=_request({"title": "t", "cost": MARK, "owner": "bob", "status": MARK}),
    ),
    SseCase(
        id="request-foreign-patch",
        expect=202,
        then="response",
        frames={
            "type": "request",
            "id": 1,
            "method": "PATCH",
            "path": "/api/docs/b1",
            "body": {"title": MARK},
        },
    ),
    SseCase(
        id="subscribe-hidden-field",
        expect=202,
        then="error",
        frames={"type": "subscribe", "id": 1, "resource": "docs", "filter": {"cost": 1}},
    ),
    SseCase(
        id="auth-bad-token",
        expect=202,
        then="error",
        frames={"type": "auth", "id": 1, "token": "wrong"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_sse(target: Target, case: SseCase) -> None:
    before = target.ensure_baseline()
    problems = asyncio.run(_play(target, case))
    problems += check_stored(case.stores, (), before, target)
    if problems:
        pytest.fail(f"{case.id} ({target.name}):\n  " + "\n  ".join(problems), pytrace=False)


async def _play(target: Target, case: SseCase) -> list[str]:
    async with httpx.AsyncClient(base_url=target.server.url, timeout=30) as http:
        harness = FallbackHarness(target.server, http)
        async with harness.open(headers=ALICE) as stream, harness.open(headers=ALICE) as other:
            answer = await _post(harness, stream, other, case)
            problems = _check(case, answer)
            if answer.status_code == 202 and case.then is not None:
                frame = await stream.next()
                if frame.get("type") != case.then:
                    problems.append(f"the stream showed {frame}, expected a {case.then} frame")
            pong = await stream.call({"type": "ping"})
            if pong.get("type") != "pong":
                problems.append(f"afterwards a ping got {pong}")
    return problems


async def _post(
    harness: FallbackHarness, stream: StreamClient, other: StreamClient, case: SseCase
) -> httpx.Response:
    token = {None: stream.token, _OTHER: other.token}.get(case.token, case.token)
    headers = {"Content-Type": case.content_type, **case.headers}
    if token:
        headers["TBone-Stream-Token"] = token
    path = f"/api/_stream/{case.session}" if case.session else stream.path
    body = case.raw if case.raw is not None else httpx.Request("POST", "/", json=case.frames).read()
    wire = {k: v.encode("utf-8", "surrogateescape") for k, v in headers.items()}
    return await harness.http.post(path, content=body, headers=wire)


def _check(case: SseCase, answer: httpx.Response) -> list[str]:
    problems = []
    if not status_matches(answer.status_code, case.expect):
        problems.append(f"status {answer.status_code}, expected {case.expect}: {answer.text[:300]}")
    if answer.status_code >= 400:
        kind = answer.headers.get("content-type", "")
        if kind != "application/problem+json":
            problems.append(f"a {answer.status_code} answer is {kind or 'untyped'}")
    return problems
