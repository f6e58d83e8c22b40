"""What a hostile WebSocket case is, and how one is played against a :class:`~.target.Target`.

A case opens a fresh socket (as alice unless told otherwise), sends its frames one by one and
reads one reply per frame: an error frame with a status, a response frame, ``subscribed``,
``unsubscribed``, ``pong``, or the close of the socket with a code. Unless it expected a close,
the socket must still answer a ping afterwards; and, as over HTTP, nothing may be stored
(``stores="nothing"``), or nothing the client must not write (``stores="clean"``).

Frames are data: a dict is sent as JSON text (lone surrogates as ``\\ud800`` escapes), a str
as raw text, bytes as a binary frame and :class:`TextBytes` as a text frame of exactly those
bytes (which may not be UTF-8).
"""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any, Literal

import attrs
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from .app import TOKENS
from .cases import Expect, check_still_serving, check_stored, describe, status_matches
from .target import Target

_TOKEN_OF = {user: token for token, user in TOKENS.items()}
ANY: Any = object()
#: seconds to wait for a reply; every reply on loopback comes in milliseconds
_REPLY_WAIT = 5


class TextBytes(bytes):
    """Sent as a text frame, byte for byte (invalid UTF-8 included)."""


Frame = dict[str, Any] | str | bytes


@attrs.frozen
class Reply:
    """One expected answer: ``kind`` is a frame type, ``"answered"`` or ``"close"``."""

    kind: str
    status: Expect | None = None
    id: Any = ANY
    codes: tuple[int, ...] = ()

    def mismatch(self, got: dict[str, Any] | int | None) -> str | None:
        """Why ``got`` (a frame, or a close code) is not this reply; None when it is."""
        if self.kind == "close":
            return None if got in self.codes else f"close code {got}, expected {self.codes}"
        if not isinstance(got, dict):
            return f"the socket closed ({got}), expected {self._what()}"
        kinds = ("error", "response") if self.kind == "answered" else self.kind.split("|")
        if got.get("type") not in kinds:
            return f"got {_short(got)}, expected {self._what()}"
        status = got.get("status")
        if (
            self.status is not None
            and got.get("type") in ("error", "response")
            and not (isinstance(status, int) and status_matches(status, self.status))
        ):
            return f"status {status}, expected {describe(self.status)}: {_short(got)}"
        if self.id is not ANY and got.get("id") != self.id:
            return f"answered to id {got.get('id')!r}, expected {self.id!r}: {_short(got)}"
        return None

    def _what(self) -> str:
        status = f" {describe(self.status)}" if self.status is not None else ""
        return f"{self.kind}{status}"


def error(status: Expect, frame_id: Any = ANY) -> Reply:
    return Reply("error", status, frame_id)


def response(status: Expect, frame_id: Any = ANY) -> Reply:
    return Reply("response", status, frame_id)


def refused(status: Expect, frame_id: Any = ANY) -> Reply:
    """``status`` in an error frame or in a response frame."""
    return Reply("error|response", status, frame_id)


def answered(frame_id: Any = ANY) -> Reply:
    """An error or response frame of any status below 500 (either answer is right)."""
    return Reply("answered", ("2xx", "3xx", "4xx"), frame_id)


def subscribed(frame_id: Any = ANY) -> Reply:
    return Reply("subscribed", None, frame_id)


def subscribed_or_refused(frame_id: Any = ANY) -> Reply:
    """Either a subscription or an error frame below 500."""
    return Reply("subscribed|error", "4xx", frame_id)


def unsubscribed(frame_id: Any = ANY) -> Reply:
    return Reply("unsubscribed", None, frame_id)


def pong() -> Reply:
    return Reply("pong")


def closed(*codes: int) -> Reply:
    return Reply("close", codes=codes)


@attrs.frozen(kw_only=True)
class WsCase:
    id: str
    frames: tuple[Frame, ...]
    replies: tuple[Reply, ...]
    user: str | None = "alice"
    #: the connect URL's query instead of the user's token (``token=wrong``)
    query: str | None = None
    stores: Literal["nothing", "clean"] = "nothing"
    may_change: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        closes = [r for r in self.replies if r.kind == "close"]
        if closes and self.replies[-1].kind != "close":
            raise ValueError(f"{self.id}: a close can only be the last reply")


def play_ws(target: Target, case: WsCase) -> list[str]:
    """Run ``case``; every way it went wrong, one line each (empty: it passed)."""
    before = target.ensure_baseline()
    problems = _converse(target, case)
    problems += check_stored(case.stores, case.may_change, before, target)
    problems += check_still_serving(target)
    return problems


def _url(target: Target, case: WsCase) -> str:
    query = case.query
    if query is None:
        query = f"token={_TOKEN_OF[case.user]}" if case.user else ""
    return target.server.ws_url + (f"?{query}" if query else "")


def _converse(target: Target, case: WsCase) -> list[str]:
    try:
        ws = connect(
            _url(target, case),
            subprotocols=["tbone.v1"],  # type: ignore[list-item]  # a Subprotocol is a str
            max_size=None,
            compression=None,
            ping_interval=None,
            open_timeout=10,
            close_timeout=5,
            proxy=None,
        )
    except (InvalidStatus, OSError) as exc:
        return [f"could not connect: {exc}"]
    with ws:
        for index, (frame, reply) in enumerate(zip(case.frames, case.replies, strict=True)):
            problem = _exchange(ws, frame, reply)
            if problem is not None and _closed_as_next(ws, case.replies[index + 1 :]):
                # The websockets sync client now and then (5 in 1,000 refused handshakes on
                # Sanic) drops a message that arrived right before the close frame; the
                # server wrote it (checked on its transport), and the asyncio client, 0 in
                # 1,000, gets it. The close that was to follow it came: that is the refusal.
                return []
            if problem is not None:
                return [f"frame {index} ({_short(frame)}): {problem}"]
        if case.replies and case.replies[-1].kind == "close":
            return []
        problem = _exchange(ws, {"type": "ping"}, pong())
        return [] if problem is None else [f"afterwards a ping: {problem}"]


def _closed_as_next(ws: ClientConnection, rest: tuple[Reply, ...]) -> bool:
    """The socket closed with the code of the close ``rest`` ends with, right after this."""
    return (
        len(rest) == 1
        and rest[0].kind == "close"
        and ws.close_code is not None
        and ws.close_code in rest[0].codes
    )


def _exchange(ws: ClientConnection, frame: Frame, reply: Reply) -> str | None:
    with suppress(ConnectionClosed):  # the server may close while a large frame goes out
        _send(ws, frame)
    try:
        text = ws.recv(timeout=_REPLY_WAIT)
    except ConnectionClosed:
        code = ws.close_code
        return reply.mismatch(code if code is not None else 1006)
    except TimeoutError:
        return f"no reply within {_REPLY_WAIT}s, expected {reply.kind}"
    return reply.mismatch(json.loads(text))


def _send(ws: ClientConnection, frame: Frame) -> None:
    if isinstance(frame, TextBytes):
        ws.send(bytes(frame), text=True)
    elif isinstance(frame, bytes | str):
        ws.send(frame)
    else:
        ws.send(json.dumps(frame))


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
