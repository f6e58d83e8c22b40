"""Stored documents read the same with orjson as with :mod:`json`, whatever wrote them."""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tbone_sqlite import _codec

INT64 = 2**63


@pytest.fixture(params=["orjson", "stdlib"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(_codec, "_orjson", orjson if request.param == "orjson" else None)
    return str(request.param)


def _typed(value: Any) -> Any:
    """``value`` with every leaf tagged by its type: 1, 1.0 and True differ, -0.0 and 0.0 too."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, float):
        return ("float", math.copysign(1.0, value), repr(value))
    return (type(value).__name__, value)


def _same(text: str) -> None:
    try:
        expected = _typed(json.loads(text))
    except (ValueError, RecursionError) as exc:
        with pytest.raises(type(exc)):
            _codec.decode(text)
        return
    assert _typed(_codec.decode(text)) == expected


leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([INT64 - 1, INT64, -INT64, -INT64 - 1, 2**64 - 1, 2**64, 10**30])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(values)
def test_any_json_value_reads_as_json_reads_it(value: Any) -> None:
    texts = [json.dumps(value), json.dumps(value, ensure_ascii=False)]
    if _fits_orjson(value):
        texts.append(orjson.dumps(value).decode())  # how tbone.jsontext writes it
    for text in texts:
        _same(text)


def _fits_orjson(value: Any) -> bool:
    try:
        orjson.dumps(value)
    except TypeError:
        return False
    return True


@pytest.mark.parametrize(
    "text",
    [
        '{"n":123456789012345678901234567890}',
        '{"n":-9223372036854775809}',
        "[18446744073709551615,18446744073709551616]",
        '{"f":1e19,"g":-1e300}',
        '{"x":NaN}',
        '{"x":Infinity,"y":-Infinity}',
        '{"x":1e400}',
        '{"s":"\\ud800"}',
        '{"a":1,"a":2}',
        '{"z":-0,"w":-0.0}',
        '{"p":1.00000000000000000001,"q":5e-324,"r":1e-400}',
        "[" * 2000 + "]" * 2000,
        '{"unterminated":',
        "",
    ],
)
def test_awkward_texts_read_as_json_reads_them(path: str, text: str) -> None:
    _same(text)
