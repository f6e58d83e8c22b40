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

from ..http.body import encode_json
from ..http.problem import HTTPError, problem_body

__all__ = ["SUBPROTOCOL", "FrameError", "error_frame", "parse_frame"]

SUBPROTOCOL = "tbone.v1"
FRAME_TYPES = ("request", "subscribe", "unsubscribe", "auth", "ping")
_NEEDS_ID = frozenset({"request", "subscribe", "unsubscribe", "auth"})


class FrameError(HTTPError):
    """A frame the server cannot act on; answered with an error frame, the socket stays open."""

    def __init__(self, detail: str, frame_id: Any = None, status: int = 400) -> None:
        super().__init__(status, detail, slug="bad-frame")
        self.frame_id = frame_id


def parse_frame(data: str | bytes) -> dict[str, Any]:
    """The frame as a dict with a known ``type`` (and an ``id`` where one is needed)."""
    if isinstance(data, bytes):
        raise FrameError("binary frames are not supported; send JSON text frames")
    try:
        frame = json.loads(data, parse_constant=_no_constants)
    except RecursionError:
        raise FrameError("the frame is nested too deeply") from None
    except ValueError as exc:
        raise FrameError(f"the frame is not valid JSON: {exc}") from None
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


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def error_frame(frame_id: Any, status: int, body: dict[str, Any]) -> str:
    return encode_json({"type": "error", "id": frame_id, "status": status, "body": body}).decode()


def simple_error(frame_id: Any, status: int, detail: str, slug: str | None = None) -> str:
    return error_frame(frame_id, status, problem_body(status, detail, slug=slug))


def encode(frame: dict[str, Any]) -> str:
    return encode_json(frame).decode()
