"""The ``tbone.v1`` WebSocket frames: parsing what clients send, building what they receive.

::

    → {"type":"request","id":1,"method":"POST","path":"/api/books","body":{...},"headers":{...}}
    ← {"type":"response","id":1,"status":201,"body":{...},"headers":{...}}
    → {"type":"subscribe","id":2,"resource":"books","filter":{"author":"Herbert"},"events":[...]}
    ← {"type":"subscribed","id":2,"subscription":"s1"}
    ← {"type":"event","subscription":"s1","resource":"books","event":"created","pk":"…","data":{…}}
    → {"type":"unsubscribe","id":3,"subscription":"s1"}   ← {"type":"unsubscribed","id":3}
    → {"type":"auth","id":4,"token":"…"}                  ← {"type":"authenticated","id":4}
    → {"type":"ping"}                                      ← {"type":"pong"}
    ← {"type":"error","id":<id or null>,"status":400,"body":{problem}}
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import BadRequest, FrameError
from ..http.problem import problem_body
from ..jsontext import MAX_DEPTH, decode, encode_ascii

__all__ = ["SUBPROTOCOL", "FrameError", "error_frame", "parse_frame"]

SUBPROTOCOL = "tbone.v1"
FRAME_TYPES = ("request", "subscribe", "unsubscribe", "auth", "ping")
_NEEDS_ID = frozenset({"request", "subscribe", "unsubscribe", "auth"})


def parse_frame(data: str | bytes, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """The frame as a dict with a known ``type`` (and an ``id`` where one is needed)."""
    if isinstance(data, bytes):
        raise FrameError("binary frames are not supported; send JSON text frames")
    try:
        frame = decode(data, max_depth=max_depth, what="the frame")
    except BadRequest as exc:
        raise FrameError(str(exc), _salvage_id(data)) from None
    if not isinstance(frame, dict):
        raise FrameError("a frame must be a JSON object with a 'type'")
    frame_id = frame.get("id")
    if frame_id is not None and (isinstance(frame_id, bool) or not isinstance(frame_id, int | str)):
        raise FrameError("'id' must be a string or an integer")
    kind = frame.get("type")
    if kind not in FRAME_TYPES:
        raise FrameError(
            f"unknown frame type {kind!r}; use one of: {', '.join(FRAME_TYPES)}", frame_id
        )
    if kind in _NEEDS_ID and frame_id is None:
        raise FrameError(f"a {kind} frame needs an 'id' to answer to")
    return frame


def _salvage_id(data: str) -> Any:
    """The id of a frame that decodes but was refused (a lone surrogate, too deep), so the
    error can still answer to it; ``None`` when there is none to find."""
    try:
        frame = json.loads(data)
    except (ValueError, RecursionError):
        return None
    frame_id = frame.get("id") if isinstance(frame, dict) else None
    if isinstance(frame_id, bool) or not isinstance(frame_id, int | str):
        return None
    return frame_id


def error_frame(
    frame_id: Any, status: int, body: dict[str, Any], *, subscription: str | None = None
) -> str:
    """An error answering frame ``frame_id``, or ending ``subscription`` (then id is null)."""
    # ASCII-escaped: an id or a detail quoting the client's text may hold a lone surrogate,
    # which is valid as a JSON escape but cannot be sent as UTF-8.
    frame: dict[str, Any] = {"type": "error", "id": frame_id, "status": status, "body": body}
    if subscription is not None:
        frame["subscription"] = subscription
    return encode_ascii(frame)


def simple_error(frame_id: Any, status: int, detail: str, slug: str | None = None) -> str:
    return error_frame(frame_id, status, problem_body(status, detail, slug=slug))
