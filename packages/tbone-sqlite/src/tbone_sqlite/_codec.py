"""Documents as JSON text in the ``doc`` column: written and read the same with or without orjson.

Writing uses :func:`tbone.jsontext.encode`, the project's codec (orjson when installed, the
standard library deciding whatever orjson would write differently or refuse), so the values
written and refused are those of :mod:`json`.

Reading uses orjson when installed (``pip install tbone-sqlite[fast]``): a page of documents is
decoded three to four times faster. It reads exactly what :mod:`json` reads but for integers
beyond 64 bits, which it turns into floats of magnitude 2**63 or more: a value holding such a
float (a walk of its containers, cheaper than scanning the text) is read again by :mod:`json`,
and so is any text orjson refuses (``NaN``, ``1e400``, a lone surrogate, deep nesting: whatever
another program wrote).
"""

from __future__ import annotations

import json
from typing import Any, Final

from tbone import jsontext

__all__ = ["decode", "encode"]


#: the optional fast path (tests set it to ``None`` to run the standard-library path)
_orjson = jsontext.optional_module("orjson")
_json_decode: Final = json.JSONDecoder().decode
_BIG: Final = 2.0**63  # no integer orjson reads as an int is this large; every one it does not is

encode = jsontext.encode


def decode(text: str) -> Any:
    """The value of JSON ``text`` as :func:`json.loads` reads it."""
    orjson = _orjson
    if orjson is not None:
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return _json_decode(text)  # json decides: it reads NaN and 1e400, or raises
        if not _has_big_float(value):
            return value
    return _json_decode(text)


def _has_big_float(value: Any) -> bool:
    """Whether ``value`` holds a float of magnitude 2**63 or more (maybe a big integer)."""
    kind = type(value)
    if kind is dict:
        value = value.values()
    elif kind is not list:
        return kind is float and not -_BIG < value < _BIG
    for item in value:
        kind = type(item)
        if kind is float:
            if not -_BIG < item < _BIG:
                return True
        elif (kind is dict or kind is list) and _has_big_float(item):
            return True
    return False
