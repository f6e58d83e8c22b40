"""JSON text in and out, as the API reads it from clients and writes it back.

Decoding is strict where Python's :mod:`json` is lenient: no ``NaN``/``Infinity`` and no number
that only fits as infinity (``1e400``), no lone UTF-16 surrogate (``"\\ud800"``: it cannot be
written out as UTF-8 again, so storing it would break every later read), and no nesting deeper
than a limit (deep values exhaust the recursion of every later step). The checks that need a
walk of the decoded value run only when a cheap scan of the text says they could fail, so the
common request pays for two ``str.count`` calls.

When `orjson <https://pypi.org/project/orjson/>`_ is installed (``pip install tbone-core[fast]``)
it writes the JSON text (several times faster than :mod:`json`; bench/json_codec.py), and the
standard library remains the referee: whatever orjson refuses or would write differently (an
integer past 64 bits, a non-string key, a subclass of a JSON type, a date; a ``null`` that might
have been a NaN, which :mod:`json` refuses) goes through the :mod:`json` path, so the values
written and refused, and the errors, are the same with and without it. The text can differ only
in how a float is spelled (``1e-07`` vs ``1e-7``), which is why every server behind one API should
run the same path (ETags hash the body). Decoding always uses :mod:`json`: on request-sized
bodies orjson's gain is eaten by the checks it would need to read exactly what :mod:`json` reads
(it turns an integer past 64 bits into a float).
"""

from __future__ import annotations

import importlib
import json
import math
import re
from types import ModuleType
from typing import Any

from .errors import BadRequest

__all__ = ["MAX_DEPTH", "decode", "encode", "encode_ascii", "encode_bytes", "optional_module"]


def optional_module(name: str) -> ModuleType | None:
    """The module ``name``, or None when it is not installed (an optional accelerator)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


#: the optional fast path, tbone-core[fast]: orjson when installed (tests set it to ``None``
#: to run the standard-library path)
_orjson = optional_module("orjson")
# what json refuses and orjson would write (dates and times, dataclasses) goes to _unsupported,
# and so do subclasses of the JSON types, whose spelling json decides
_OPTIONS: int = (
    0
    if _orjson is None
    else _orjson.OPT_PASSTHROUGH_SUBCLASS
    | _orjson.OPT_PASSTHROUGH_DATETIME
    | _orjson.OPT_PASSTHROUGH_DATACLASS
)

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
    if _orjson is not None:
        fast = _fast_encode(_orjson, value)
        if fast is not None:
            return fast.decode()
    return _encoder.encode(value)


def encode_bytes(value: Any) -> bytes:
    """:func:`encode` as UTF-8 bytes, what a response body or a published message holds."""
    if _orjson is not None:
        fast = _fast_encode(_orjson, value)
        if fast is not None:
            return fast
    return _encoder.encode(value).encode()


def _fast_encode(orjson: ModuleType, value: Any) -> bytes | None:
    """orjson's text, or ``None`` when only the standard library may answer."""
    try:
        out: bytes = orjson.dumps(value, default=_unsupported, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is one: json raises its own error, or copes
        return None
    # orjson writes NaN and Infinity as null: json refuses them
    if b"null" in out and _has_non_finite(value):
        return None
    return out


def _unsupported(value: Any) -> Any:
    raise TypeError


def _has_non_finite(value: Any) -> bool:
    """Whether ``value`` holds a NaN or an infinity (checked only when orjson wrote a null)."""
    kind = type(value)
    if kind is dict:
        for item in value.values():  # noqa: SIM110  # any() on a generator: ~8x slower
            if type(item) not in _LEAVES and _has_non_finite(item):
                return True
        return False
    if kind is list or kind is tuple:
        for item in value:  # noqa: SIM110  # any() on a generator: ~8x slower
            if type(item) not in _LEAVES and _has_non_finite(item):
                return True
        return False
    return isinstance(value, float) and not math.isfinite(value)


# what cannot be or hold a non-finite float: skipped without a call
_LEAVES = frozenset({str, int, bool, type(None)})


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
    # Only containers go on the stack, strings are checked where they are met: a walk of a
    # 20-object page costs a tenth of pushing every key and value.
    if type(value) is str:
        _check_text(value, surrogates, what)
        return
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth >= max_depth:
            raise _too_deep(what, max_depth)
        if type(item) is dict:
            if surrogates:
                for key in item:
                    _check_text(key, surrogates, what)
            item = item.values()
        for child in item:
            kind = type(child)
            if kind is str:
                if surrogates:
                    _check_text(child, surrogates, what)
            elif kind is dict or kind is list:
                stack.append((child, depth + 1))


def _check_text(text: str, surrogates: bool, what: str) -> None:
    if surrogates and not _is_unicode(text):
        raise BadRequest(
            f"{what} holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text",
            slug="malformed-json",
        )


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
