"""Reading JSON request bodies strictly, and writing JSON responses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import BadRequest, TooLarge, UnsupportedMediaType
from ..jsontext import MAX_DEPTH, decode, encode_bytes
from .message import Headers

__all__ = ["decode_json", "encode_json", "is_json_content_type", "read_body", "too_large"]


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON; NaN and Infinity are refused (they are not JSON)."""
    return encode_bytes(value)


def is_json_content_type(value: str) -> bool:
    media = value.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def read_body(
    read: Callable[[], Awaitable[bytes | None]], *, declared: str | int | None, limit: int
) -> bytes | None:
    """A whole request body from a transport's chunk reader (``b""`` or ``None`` at the end),
    or ``None`` as soon as it is known to be larger than ``limit``: from ``Content-Length``
    before reading anything, else while reading, so a huge body is never held in memory.
    Transports answer ``None`` with ``api.body_too_large()``.
    """
    if isinstance(declared, str):
        declared = int(declared) if declared.isdigit() else None
    if declared is not None and declared > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while chunk := await read():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(max_size: int) -> TooLarge:
    return TooLarge(
        f"the request body is larger than the limit of {max_size} bytes", slug="body-too-large"
    )


def decode_json(headers: Headers, body: bytes, max_size: int, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of a request body; ``BadRequest``, ``TooLarge`` or
    ``UnsupportedMediaType`` when it cannot be one."""
    if len(body) > max_size:
        raise too_large(max_size)
    content_type = headers.get("content-type")
    if content_type is None or not is_json_content_type(content_type):
        raise UnsupportedMediaType(
            "send the body as JSON with the header Content-Type: application/json"
        )
    if not body.strip():
        raise BadRequest("the request body is empty; send a JSON document", slug="malformed-json")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise BadRequest("the request body is not valid UTF-8", slug="malformed-json") from None
    return decode(text, max_depth=max_depth, what="the request body")
