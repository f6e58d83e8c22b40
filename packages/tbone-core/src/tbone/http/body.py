"""Reading JSON request bodies strictly, and writing JSON responses."""

from __future__ import annotations

import json
from typing import Any

from .message import Headers
from .problem import HTTPError

__all__ = ["decode_json", "encode_json", "is_json_content_type", "too_large"]

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON; NaN and Infinity are refused (they are not JSON)."""
    return _encoder.encode(value).encode()


def is_json_content_type(value: str) -> bool:
    media = value.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_decoder = json.JSONDecoder(
    parse_constant=_no_constants
)  # built once: json.loads(**kw) builds one per call


def too_large(max_size: int) -> HTTPError:
    return HTTPError(
        413, f"the request body is larger than the limit of {max_size} bytes", slug="body-too-large"
    )


def decode_json(headers: Headers, body: bytes, max_size: int) -> Any:
    """The JSON value of a request body, or an :class:`HTTPError` (400, 413 or 415)."""
    if len(body) > max_size:
        raise HTTPError(
            413,
            f"the request body is larger than the limit of {max_size} bytes",
            slug="body-too-large",
        )
    content_type = headers.get("content-type")
    if content_type is None or not is_json_content_type(content_type):
        raise HTTPError(
            415,
            "send the body as JSON with the header Content-Type: application/json",
            slug="unsupported-media-type",
        )
    if not body.strip():
        raise HTTPError(
            400, "the request body is empty; send a JSON document", slug="malformed-json"
        )
    try:
        return _decoder.decode(body.decode())
    except RecursionError:
        raise HTTPError(400, "the JSON body is nested too deeply", slug="malformed-json") from None
    except UnicodeDecodeError:
        raise HTTPError(400, "the request body is not valid UTF-8", slug="malformed-json") from None
    except ValueError as exc:
        raise HTTPError(
            400, f"the request body is not valid JSON: {exc}", slug="malformed-json"
        ) from None
