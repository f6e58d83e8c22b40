"""``ObjectId``: MongoDB's 12-byte identifier as a TBone field type.

On the wire and in JSON Schema it is a string of 24 lowercase hex digits; in MongoDB it is a
BSON ObjectId. The native value is :class:`ObjectId`, a ``str`` subclass, so that models using
it import no driver. Anything else (wrong length, non-hex digits) is a validation error.
"""

from __future__ import annotations

import re
from typing import Any, Final

from tbone.data import register_type

__all__ = ["ObjectId"]

_HEX24: Final = re.compile(r"[0-9a-fA-F]{24}\Z")


class ObjectId(str):
    """A MongoDB ObjectId as 24 lowercase hex digits.

    >>> ObjectId("65F0c0ffee0000000000beef")
    ObjectId('65f0c0ffee0000000000beef')

    As a primary key with a generated default::

        class Order(Model):
            id: ObjectId = field(primary_key=True, factory=ObjectId.new)
    """

    __slots__ = ()

    def __new__(cls, value: Any) -> ObjectId:
        if isinstance(value, ObjectId):
            return value
        text = _text(value)
        if not _HEX24.match(text):
            raise ValueError(f"expected an ObjectId (24 hex digits), got {text[:40]!r}")
        return super().__new__(cls, text.lower())

    @classmethod
    def new(cls) -> ObjectId:
        """A new ObjectId (time-ordered, unique), made by the BSON library."""
        import bson  # the driver stays at the edge: imported when an ObjectId is generated

        return cls(str(bson.ObjectId()))

    def __repr__(self) -> str:
        return f"ObjectId({str(self)!r})"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return str(value)
    if type(value).__name__ == "ObjectId" and hasattr(value, "binary"):  # a bson.ObjectId
        return str(value)
    raise TypeError(
        f"expected an ObjectId as a string of 24 hex digits, got {type(value).__name__}"
    )


register_type(
    ObjectId,
    load=ObjectId,
    dump=str,
    schema={"type": "string", "pattern": "^[0-9a-fA-F]{24}$", "format": "objectid"},
)
