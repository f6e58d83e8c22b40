"""Wire documents to BSON and back, planned once per model from its field converters.

TBone hands stores JSON-ready documents; MongoDB should hold natural ones. A :class:`Codec`
converts, field by field, only what needs it:

- the primary key is ``_id``; the version is ``_v`` (:data:`VERSION`);
- ``datetime`` is a BSON date (UTC, millisecond precision), ``Decimal`` a Decimal128,
  ``UUID`` a BSON UUID (standard, subtype 4), ``tbone_mongo.ObjectId`` an ObjectId;
- nested models are subdocuments, lists arrays; ``date`` and ``time`` stay ISO strings;
- keys of free-form dicts (``dict[str, T]``, ``Any``) that MongoDB cannot hold or would read
  as operators or paths (holding NUL or ``.``, starting with ``$``) are stored escaped as
  ``~%`` + percent-encoding (:func:`escape_key`); every other key is stored as it is.

Reading keeps only the model's fields, so documents written by other programs may carry more.
"""

from __future__ import annotations

import base64
import datetime as dt
import urllib.parse
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final

import attrs
import bson
from bson.decimal128 import Decimal128

from tbone.data import Converter, Model, fields_of, pk_of

from ._objectid import ObjectId

__all__ = ["VERSION", "Codec", "Plan", "codec_of", "escape_key", "plan_of"]

VERSION: Final = "_v"
"""The field holding a document's version; a document without it is at version 1."""

_ESCAPE: Final = "~%"
_CACHE: Final = "__tbone_mongo_codec__"

Convert = Callable[[Any], Any]


@attrs.frozen
class Plan:
    """How values of one type go to BSON and back; ``None`` is "as it is"."""

    to_bson: Convert | None
    from_bson: Convert | None


_IDENTITY: Final = Plan(None, None)


def escape_key(key: str) -> str:
    """The stored form of a free-form dict key (see the module docstring)."""
    if "\0" in key or "." in key or key.startswith(("$", _ESCAPE)):
        return _ESCAPE + urllib.parse.quote(key, safe="")
    return key


def _unescape_key(key: str) -> str:
    return urllib.parse.unquote(key[2:]) if key.startswith(_ESCAPE) else key


# -- scalars ------------------------------------------------------------------------------------


def _datetime_to(v: Any) -> Any:
    return dt.datetime.fromisoformat(v) if isinstance(v, str) else v


def _datetime_from(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return (v if v.tzinfo is not None else v.replace(tzinfo=dt.UTC)).isoformat()
    return v


def _decimal_to(v: Any) -> Any:
    return Decimal128(Decimal(v)) if isinstance(v, str | int | Decimal) else v


def _decimal_from(v: Any) -> Any:
    return str(v.to_decimal()) if isinstance(v, Decimal128) else v


def _uuid_to(v: Any) -> Any:
    return uuid.UUID(v) if isinstance(v, str) else v


def _str_from(v: Any) -> Any:
    return str(v) if isinstance(v, uuid.UUID | bson.ObjectId) else v


def _objectid_to(v: Any) -> Any:
    return bson.ObjectId(v) if isinstance(v, str) and bson.ObjectId.is_valid(v) else v


_SCALAR_PLANS: Final[dict[Any, Plan]] = {
    dt.datetime: Plan(_datetime_to, _datetime_from),
    Decimal: Plan(_decimal_to, _decimal_from),
    uuid.UUID: Plan(_uuid_to, _str_from),
    ObjectId: Plan(_objectid_to, _str_from),
}


# -- free-form values ---------------------------------------------------------------------------


def _any_to(v: Any) -> Any:
    if type(v) is dict:
        return {escape_key(k): _any_to(x) for k, x in v.items()}
    if type(v) is list:
        return [_any_to(x) for x in v]
    return v


def _any_from(v: Any) -> Any:
    """JSON-ready data from whatever BSON another program may have written."""
    if isinstance(v, dict):
        return {_unescape_key(k): _any_from(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_any_from(x) for x in v]
    if v is None or isinstance(v, str | int | float | bool):
        return v
    if isinstance(v, dt.datetime):
        return _datetime_from(v)
    if isinstance(v, Decimal128):
        return _decimal_from(v)
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    return str(v)


_ANY: Final = Plan(_any_to, _any_from)


def _each(convert: Convert) -> Convert:
    def each(v: Any) -> Any:
        return [convert(x) for x in v] if isinstance(v, list) else v

    return each


def _values(convert: Convert | None, keys: Callable[[str], str]) -> Convert:
    def values(v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        if convert is None:
            return {keys(k): x for k, x in v.items()}
        return {keys(k): convert(x) for k, x in v.items()}

    return values


def _nested(model: type[Model]) -> Plan:
    # Looked up on use, not now: a model may contain itself (a tree of comments, say).
    def to_bson(v: Any) -> Any:
        return codec_of(model).fields_to_bson(v)

    def from_bson(v: Any) -> Any:
        return codec_of(model).fields_from_bson(v)

    return Plan(to_bson, from_bson)


def plan_of(conv: Converter) -> Plan:
    """The plan for values of ``conv``'s type."""
    if conv.model is not None:
        return _nested(conv.model)
    pt = conv.python_type
    if pt in (list, set, frozenset, tuple) and conv.item is not None:
        item = plan_of(conv.item)
        return Plan(
            None if item.to_bson is None else _each(item.to_bson),
            None if item.from_bson is None else _each(item.from_bson),
        )
    if pt is dict and conv.item is not None:
        item = plan_of(conv.item)
        return Plan(_values(item.to_bson, escape_key), _values(item.from_bson, _unescape_key))
    if pt is None:
        return _ANY  # Any, unions, literals: JSON values as they are, keys escaped
    return _SCALAR_PLANS.get(pt, _IDENTITY)


# -- documents ----------------------------------------------------------------------------------


@attrs.frozen
class _Field:
    name: str
    stored: str
    plan: Plan


class Codec:
    """The BSON form of one model's documents (``pk`` as ``_id``, version as ``_v``)."""

    def __init__(self, model: type[Model], *, top: bool) -> None:
        pk = pk_of(model) if top else None
        self.pk = pk
        self.fields = tuple(
            _Field(name, "_id" if name == pk else name, plan_of(info.converter))
            for name, info in fields_of(model).items()
        )
        self._by_name = {f.name: f for f in self.fields}

    def field(self, name: str) -> Plan:
        found = self._by_name.get(name)
        return _ANY if found is None else found.plan

    def stored_name(self, name: str) -> str:
        return "_id" if name == self.pk else name

    def fields_to_bson(self, doc: Any) -> Any:
        if not isinstance(doc, dict):
            return doc
        out: dict[str, Any] = {}
        by_name = self._by_name
        for k, v in doc.items():
            f = by_name.get(k)
            if f is None:
                out[escape_key(k)] = _any_to(v)
            else:
                to = f.plan.to_bson
                out[f.stored] = v if to is None or v is None else to(v)
        return out

    def fields_from_bson(self, doc: Any) -> Any:
        if not isinstance(doc, dict):
            return doc
        out: dict[str, Any] = {}
        for f in self.fields:
            if f.stored in doc:
                v = doc[f.stored]
                frm = f.plan.from_bson
                out[f.name] = v if frm is None or v is None else frm(v)
        return out

    def to_bson(self, doc: dict[str, Any], version: int) -> dict[str, Any]:
        """The stored form of a wire document at ``version``."""
        out = self.fields_to_bson(doc)
        out[VERSION] = version
        return out  # type: ignore[no-any-return]  # fields_to_bson of a dict is a dict

    def from_bson(self, stored: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """The wire document and version of a stored one (version 1 when it has none)."""
        version = stored.get(VERSION)
        doc: dict[str, Any] = self.fields_from_bson(stored)
        return doc, version if type(version) is int else 1


def codec_of(model: type[Model], *, top: bool = False) -> Codec:
    """The codec of ``model`` (``top``: a stored collection's model, whose pk is ``_id``)."""
    attr = _CACHE + ("top" if top else "nested")
    codec: Codec | None = model.__dict__.get(attr)
    if codec is None:
        codec = Codec(model, top=top)
        setattr(model, attr, codec)
    return codec
