"""JSON text in and out: with orjson installed (tbone-core[fast], which writes the text) and
without it, the same values are written, accepted and refused, with the same errors.

Every test runs on both paths (``json_path``); the orjson one is skipped where orjson is not
installed. Expected errors are taken from the standard-library path, the reference.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tbone import jsontext
from tbone.errors import BadRequest
from tbone.http.body import encode_json

try:
    import orjson
except ImportError:  # the fast path's tests skip; the stdlib path's still run
    orjson = None

NO_ORJSON = pytest.mark.skipif(orjson is None, reason="orjson is not installed")
PATHS = ["stdlib", pytest.param("orjson", marks=NO_ORJSON)]


@pytest.fixture(params=PATHS)
def json_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(jsontext, "_orjson", None if request.param == "stdlib" else orjson)
    return str(request.param)


def _stdlib_error(text: str, **kw: Any) -> str:
    saved, jsontext._orjson = jsontext._orjson, None
    try:
        jsontext.decode(text, **kw)
    except BadRequest as exc:
        return str(exc)
    finally:
        jsontext._orjson = saved
    raise AssertionError(f"the stdlib path accepted {text!r}")


REFUSED = [
    '"\\ud800"',  # a lone high surrogate
    '{"name": "x\\udc00y"}',  # a lone low surrogate, inside an object
    '["\\ud83d"]',  # a high surrogate with no low one after it
    '{"\\ud800": 1}',  # in a key
    '[{"a": [1, {"b": ["ok", "\\udfff"]}]}]',  # deep down
    "1e400",
    '{"n": -1e400}',
    "[123e999]",
    "NaN",
    '{"x": Infinity}',
    "-Infinity",
    "[" * 65 + "]" * 65,  # deeper than MAX_DEPTH
    '{"a":' * 65 + "1" + "}" * 65,
    "[" * 1100 + "]" * 1100,  # deeper than orjson's own limit
    '"a\x01b"',
    "[1,]",
    "\ufeff[1]",
    "{'a': 1}",
    "",
    "[1] [2]",
]


@pytest.mark.parametrize("text", REFUSED, ids=lambda t: repr(t[:20]))
def test_refused_alike(json_path: str, text: str) -> None:
    expected = _stdlib_error(text)
    with pytest.raises(BadRequest) as info:
        jsontext.decode(text)
    assert str(info.value) == expected
    assert info.value.slug == "malformed-json"


def test_depth_limit_is_the_callers(json_path: str) -> None:
    text = "[[[[1]]]]"
    assert jsontext.decode(text, max_depth=4) == [[[[1]]]]
    with pytest.raises(BadRequest, match="nested more than 3 levels deep"):
        jsontext.decode(text, max_depth=3, what="the frame")


ACCEPTED = [
    '{"title": "Dune", "year": 1965, "tags": ["scifi"], "in_print": true, "x": null}',
    "123456789012345678901234567890",  # orjson alone would read a float
    "[-9223372036854775809, 18446744073709551616, 9223372036854775807]",
    '"\\ud83d\\ude00 \\u00e9 caf\u00e9"',  # a surrogate pair is one character
    "[1e308, 1e-400, -0.0, 0.1, 5e-324, 1E2]",
    '{"a": 1, "a": 2}',
    " [ ] ",
    '"\\u0000"',
]


@pytest.mark.parametrize("text", ACCEPTED, ids=lambda t: repr(t[:20]))
def test_accepted_alike(json_path: str, text: str) -> None:
    value = jsontext.decode(text)
    assert value == json.loads(text)
    assert _types(value) == _types(json.loads(text))  # 1 stays an int, 1.0 a float


def _types(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value).__name__


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), {"a": None, "b": [1.5, -math.inf]}, [None, {"x": math.nan}]],
    ids=repr,
)
def test_encode_refuses_non_finite(json_path: str, value: Any) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        jsontext.encode(value)
    with pytest.raises(ValueError, match="not JSON compliant"):
        encode_json(value)


class Colour(enum.IntEnum):
    RED = 1


class Label(enum.StrEnum):
    NEW = "new"


@pytest.mark.parametrize(
    "value",
    [
        {"objects": [{"id": "a", "title": "caf\u00e9 \U0001f600", "n": None}], "meta": {"x": 1}},
        2**70,  # past 64 bits: orjson refuses, json writes it
        [-(2**64), 2**63],
        {1: "int key", "s": True},
        [Colour.RED, Label.NEW],
        ("a", "tuple"),
        'control \x01\x1f and \u2028 and quote " and \\',
        {"nullable": "null", "none": None},
    ],
    ids=repr,
)
def test_encode_alike(json_path: str, value: Any) -> None:
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert jsontext.encode(value) == expected
    assert jsontext.encode_bytes(value) == expected.encode()
    assert encode_json(value) == expected.encode()


@pytest.mark.parametrize("value", [object(), {"when": dt.date(2024, 1, 1)}])
def test_encode_refuses_what_is_not_json(json_path: str, value: Any) -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        jsontext.encode_bytes(value)


def test_encode_ascii_escapes(json_path: str) -> None:
    assert jsontext.encode_ascii({"t": "caf\u00e9"}) == '{"t":"caf\\u00e9"}'


def test_fast_path_is_used_when_installed() -> None:
    pytest.importorskip("orjson")
    assert jsontext._orjson is orjson


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@NO_ORJSON
@given(value=json_values)
def test_paths_agree_on_any_value(value: Any) -> None:
    fast_text = jsontext.encode(value)
    saved, jsontext._orjson = jsontext._orjson, None
    try:
        slow_text = jsontext.encode(value)
        slow_value = jsontext.decode(slow_text, max_depth=1000)
    finally:
        jsontext._orjson = saved
    assert json.loads(fast_text) == json.loads(slow_text)  # floats may be spelled apart
    fast_value = jsontext.decode(slow_text, max_depth=1000)
    assert fast_value == slow_value
    assert _types(fast_value) == _types(slow_value)
