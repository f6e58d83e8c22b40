"""What SQLite cannot hold or parse, as the tbone error the caller can act on.

- Integers: SQLite's are 64-bit. A larger one would be read back by ``json_extract`` as a
  rounded REAL (two different values colliding in a unique index, wrong order and equality), and
  cannot be bound at all as a primary key. Documents holding one are refused with a
  ``ValidationError`` naming its place; keys beyond the range name no stored document.
- Text: SQLite stores UTF-8, and a lone UTF-16 surrogate (``"\\ud800"``) has no UTF-8 form. A
  document holding one is a ``ValidationError``, a query value a ``QueryError``.
- Queries past SQLite's compile-time limits (bound variables, expression depth, parser stack,
  LIKE pattern length) are a ``QueryError``: the same query will never succeed, so it is not
  ``StoreUnavailable`` (HTTP 503, "try again later").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from tbone.errors import QueryError, ValidationError
from tbone.storage import Document

__all__ = ["INT_MSG", "check_integers", "fits_int64", "invalid_value", "too_complex"]

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

_LONG_DIGITS: Final = re.compile("[0-9]{19}")  # every integer beyond 64 bits has 19+ digits
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_TOO_COMPLEX: Final = (
    "too many SQL variables",
    "Expression tree is too large",
    "LIKE or GLOB pattern too complex",
    "parser stack overflow",
    "too many terms in compound SELECT",
    "too many arguments on function",
)
INT_MSG: Final = (
    f"integers in the SQLite store must fit in 64 bits ({INT64_MIN} to {INT64_MAX}); "
    "store larger numbers in a Decimal or str field"
)


def fits_int64(value: Any) -> bool:
    """Whether ``value`` is anything but an ``int`` SQLite cannot hold."""
    return type(value) is not int or INT64_MIN <= value <= INT64_MAX


def check_integers(doc: Document, text: str, loc: Sequence[str | int] = ()) -> None:
    """Raise ``ValidationError`` if ``doc`` (encoded as ``text``) holds a too large integer."""
    if not _LONG_DIGITS.search(text):  # the common case: a scan at C speed, no walk
        return
    found = _find(doc, [*loc], _big_int)
    if found is not None:
        raise ValidationError.single(found, INT_MSG, "int64")


def invalid_value(
    exc: UnicodeEncodeError | OverflowError, docs: Sequence[Document], *, indexed: bool
) -> ValidationError:
    """The error for a value the driver could not bind; ``docs`` are the documents written."""
    msg, kind = _describe(exc)
    for i, doc in enumerate(docs):
        found = _find(doc, [i] if indexed else [], _bad_value)
        if found is not None:
            return ValidationError.single(found, msg, kind)
    if docs:
        return ValidationError.single([], msg, kind)
    return QueryError.single([], msg.replace("a document", "a query value"), kind)


def too_complex(exc: BaseException) -> QueryError | None:
    """A ``QueryError`` if ``exc`` is SQLite refusing a statement it can never run."""
    text = str(exc)
    if not any(reason in text for reason in _TOO_COMPLEX):
        return None
    return QueryError.single(
        [],
        f"the query is too complex for SQLite ({text}): use fewer values, search words or "
        "nested conditions, or split it into several queries",
        "too_complex",
    )


def _describe(exc: UnicodeEncodeError | OverflowError) -> tuple[str, str]:
    if isinstance(exc, UnicodeEncodeError):
        char = exc.object[exc.start : exc.end]
        return (
            f"a document holds a lone UTF-16 surrogate ({char.encode('unicode_escape').decode()}),"
            " which is not valid Unicode text: SQLite stores UTF-8 only",
            "surrogate",
        )
    return INT_MSG, "int64"


def _big_int(value: Any) -> bool:
    return not fits_int64(value)


def _bad_value(value: Any) -> bool:
    return _big_int(value) or (isinstance(value, str) and _SURROGATE.search(value) is not None)


def _printable(key: Any) -> Any:
    # a location is shown to the client: never echo a lone surrogate back (it has no UTF-8)
    return key.encode("utf-8", "backslashreplace").decode() if isinstance(key, str) else key


def _find(value: Any, loc: list[str | int], bad: Any) -> list[str | int] | None:
    """The place of the first value (or key) for which ``bad`` is true, depth first."""
    if bad(value):
        return loc
    if isinstance(value, dict):
        for key, item in value.items():
            shown = _printable(key)
            if bad(key):
                return [*loc, shown]
            found = _find(item, [*loc, shown], bad)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _find(item, [*loc, i], bad)
            if found is not None:
                return found
    return None
