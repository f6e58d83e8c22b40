"""ODM round trip: wire dict -> validated object -> JSON-ready dict.

The same 12-field book (a nested author, a list of nested editions, a list of tags, bounds,
a pattern, a timezone-aware datetime) three ways: TBone, pydantic v2, and hand-written attrs
classes with attrs validators plus a cattrs converter.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

import attrs
import cattrs
import pydantic

from tbone import Model, field

PAYLOAD: dict[str, Any] = {
    "id": "6f1d0c6e8a8b4f7e9a3c2b1d0e9f8a7b",
    "title": "Dune",
    "author": {"name": "Frank Herbert", "born": 1920},
    "year": 1965,
    "isbn": "9780441172719",
    "tags": ["scifi", "classic", "desert"],
    "editions": [{"format": "hardcover", "price": 24.5}, {"format": "paperback", "price": 9.99}],
    "in_print": True,
    "rating": 4.6,
    "pages": 412,
    "published": "1965-08-01T00:00:00+00:00",
    "language": "en",
}

# --- TBone ---------------------------------------------------------------------------------------


class TAuthor(Model, embedded=True):
    name: str = field(min_length=1, max_length=100)
    born: int | None = field(default=None, ge=0, le=3000)


class TEdition(Model, embedded=True):
    format: Literal["hardcover", "paperback", "ebook"]
    price: float = field(ge=0)


class TBook(Model):
    id: str = field(primary_key=True)
    title: str = field(min_length=1, max_length=200)
    author: TAuthor
    year: int | None = field(default=None, ge=0, le=3000)
    isbn: str | None = field(default=None, pattern=r"^\d{13}$")
    tags: list[str] = field(factory=list)
    editions: list[TEdition] = field(factory=list)
    in_print: bool = True
    rating: float = field(default=0.0, ge=0, le=5)
    pages: int = field(default=0, ge=0)
    published: dt.datetime | None = None
    language: str = field(default="en", min_length=2, max_length=2)


def tbone_round_trip(data: dict[str, Any]) -> dict[str, Any]:
    return TBook.from_data(data).to_data()


# --- pydantic v2 -------------------------------------------------------------------------------


class PAuthor(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    name: str = pydantic.Field(min_length=1, max_length=100)
    born: int | None = pydantic.Field(default=None, ge=0, le=3000)


class PEdition(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    format: Literal["hardcover", "paperback", "ebook"]
    price: float = pydantic.Field(ge=0)


class PBook(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    id: str
    title: str = pydantic.Field(min_length=1, max_length=200)
    author: PAuthor
    year: int | None = pydantic.Field(default=None, ge=0, le=3000)
    isbn: str | None = pydantic.Field(default=None, pattern=r"^\d{13}$")
    tags: list[str] = pydantic.Field(default_factory=list)
    editions: list[PEdition] = pydantic.Field(default_factory=list)
    in_print: bool = True
    rating: float = pydantic.Field(default=0.0, ge=0, le=5)
    pages: int = pydantic.Field(default=0, ge=0)
    published: pydantic.AwareDatetime | None = None
    language: str = pydantic.Field(default="en", min_length=2, max_length=2)


def pydantic_round_trip(data: dict[str, Any]) -> dict[str, Any]:
    return PBook.model_validate(data).model_dump(mode="json")


# --- hand-written attrs + cattrs -------------------------------------------------------------

_ISBN = re.compile(r"^\d{13}$")


def _isbn(_: Any, __: Any, value: str | None) -> None:
    if value is not None and not _ISBN.match(value):
        raise ValueError("isbn must be 13 digits")


def _aware(_: Any, __: Any, value: dt.datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError("published must include a timezone")


v = attrs.validators


@attrs.define
class AAuthor:
    name: str = attrs.field(validator=[v.instance_of(str), v.min_len(1), v.max_len(100)])
    born: int | None = attrs.field(
        default=None, validator=v.optional([v.instance_of(int), v.ge(0), v.le(3000)])
    )


@attrs.define
class AEdition:
    format: str = attrs.field(validator=v.in_(("hardcover", "paperback", "ebook")))
    price: float = attrs.field(validator=[v.instance_of(float), v.ge(0)])


@attrs.define
class ABook:
    id: str = attrs.field(validator=v.instance_of(str))
    title: str = attrs.field(validator=[v.instance_of(str), v.min_len(1), v.max_len(200)])
    author: AAuthor
    year: int | None = attrs.field(
        default=None, validator=v.optional([v.instance_of(int), v.ge(0), v.le(3000)])
    )
    isbn: str | None = attrs.field(default=None, validator=_isbn)
    tags: list[str] = attrs.field(factory=list, validator=v.deep_iterable(v.instance_of(str)))
    editions: list[AEdition] = attrs.field(factory=list)
    in_print: bool = attrs.field(default=True, validator=v.instance_of(bool))
    rating: float = attrs.field(default=0.0, validator=[v.instance_of(float), v.ge(0), v.le(5)])
    pages: int = attrs.field(default=0, validator=[v.instance_of(int), v.ge(0)])
    published: dt.datetime | None = attrs.field(default=None, validator=_aware)
    language: str = attrs.field(
        default="en", validator=[v.instance_of(str), v.min_len(2), v.max_len(2)]
    )


_cattrs = cattrs.Converter(forbid_extra_keys=True)
_cattrs.register_structure_hook(dt.datetime, lambda value, _: dt.datetime.fromisoformat(value))
_cattrs.register_unstructure_hook(dt.datetime, lambda value: value.isoformat())


def attrs_round_trip(data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = _cattrs.unstructure(_cattrs.structure(data, ABook))
    return result


CASES = {
    "tbone": tbone_round_trip,
    "pydantic v2": pydantic_round_trip,
    "attrs + cattrs (hand-written)": attrs_round_trip,
}


def check_equivalent() -> None:
    """All three must produce the same output, or the comparison means nothing."""
    # Both "+00:00" and "Z" are ISO 8601 for UTC; pydantic writes the latter.
    outputs = {name: _utc_z(fn(PAYLOAD)) for name, fn in CASES.items()}
    reference = outputs["pydantic v2"]
    for name, out in outputs.items():
        if out != reference:
            raise AssertionError(f"{name} output differs from pydantic's:\n{out}\n{reference}")


def _utc_z(data: dict[str, Any]) -> dict[str, Any]:
    published = data.get("published")
    if isinstance(published, str):
        return {**data, "published": published.replace("+00:00", "Z")}
    return data
