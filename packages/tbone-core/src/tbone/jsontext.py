"""JSON text in and out, as the API reads it from clients and writes it back.

Decoding is strict where Python's :mod:`json` is lenient: no ``NaN``/``Infinity`` and no number
that only fits as infinity (``1e400``), no lone UTF-16 surrogate (``"\\ud800"``: it cannot be
written out as UTF-8 again, so storing it would break every later read), and no nesting deeper
than a limit (deep values exhaust the recursion of every later step). The checks that need a
walk of the decoded value run only when a cheap scan of the text says they could fail, so the
common request pays for two ``str.count`` calls.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import BadRequest

__all__ = ["MAX_DEPTH", "decode", "encode", "encode_ascii"]

#: the default nesting limit of decoded JSON (objects and arrays inside one another)
MAX_DEPTH = 64

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_ascii_encoder = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:40]} is too large")
    return value


# built once: json.loads(**kw) builds a decoder per call
_decoder = json.JSONDecoder(parse_constant=_no_constants, parse_float=_finite)


def encode(value: Any) -> str:
    """Compact JSON text; NaN and Infinity are refused (they are not JSON)."""
    return _encoder.encode(value)


def encode_ascii(value: Any) -> str:
    """Compact JSON text with every non-ASCII character escaped (always valid UTF-8)."""
    return _ascii_encoder.encode(value)


def decode(text: str, *, max_depth: int = MAX_DEPTH, what: str = "the JSON") -> Any:
    """The value of JSON ``text``, or :class:`BadRequest` saying what is wrong with it."""
    try:
        value = _decoder.decode(text)
    except RecursionError:
        raise _too_deep(what, max_depth) from None
    except ValueError as exc:
        raise BadRequest(f"{what} is not valid JSON: {exc}", slug="malformed-json") from None
    surrogates = "\\u" in text and _SURROGATE_ESCAPE.search(text) is not None
    if surrogates or text.count("[") + text.count("{") > max_depth:
        _check(value, max_depth, surrogates, what)
    return value


def _check(value: Any, max_depth: int, surrogates: bool, what: str) -> None:
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if surrogates and not _is_unicode(item):
                raise BadRequest(
                    f"{what} holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text",
                    slug="malformed-json",
                )
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                raise _too_deep(what, max_depth)
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def _is_unicode(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _too_deep(what: str, max_depth: int) -> BadRequest:
    return BadRequest(f"{what} is nested more than {max_depth} levels deep", slug="malformed-json")
