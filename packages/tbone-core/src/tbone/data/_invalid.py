"""The failure signal of converters, turned into :class:`tbone.ValidationError` at the edge."""

from __future__ import annotations

from typing import Any

from ..errors import ErrorDetail

__all__ = ["Invalid", "describe", "prefixed"]


class Invalid(Exception):
    """Raised by converters; carries error details whose ``loc`` is relative to the value."""

    __slots__ = ("errors",)

    def __init__(self, errors: list[ErrorDetail]) -> None:
        self.errors = errors

    @classmethod
    def one(cls, msg: str, type: str) -> Invalid:  # noqa: A002 - mirrors the error dict key
        return cls([{"loc": [], "msg": msg, "type": type}])


def prefixed(errors: list[ErrorDetail], key: str | int) -> list[ErrorDetail]:
    """Put ``key`` in front of every error's location (called only when something failed)."""
    for err in errors:
        err["loc"].insert(0, key)
    return errors


_JSON_NAMES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def describe(value: Any) -> str:
    """Name the kind of a value for an error message without echoing the (maybe huge) value."""
    name = _JSON_NAMES.get(type(value))
    return name if name is not None else type(value).__name__
