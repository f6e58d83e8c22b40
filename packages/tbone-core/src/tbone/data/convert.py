"""Converters: for each Python type, how wire values are loaded, dumped and described.

A :class:`Converter` is built once per field when a model is first used. ``load`` turns a
wire (JSON) value *or* a native Python value into the native value, raising :class:`Invalid`;
``dump`` turns a native value back into JSON-ready primitives (``None`` means "as is").
Plugins add types with :func:`register_type`.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import types
import typing
import uuid
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import attrs

from ..errors import ErrorDetail
from ._invalid import Invalid, describe, prefixed
from .constraints import Constraints, constraints_from_metadata
from .unions import Tagged, refuse_mixed, tag_of, tagged_parts, tagged_schema

__all__ = ["Builder", "Converter", "Format", "TypeHandler", "register_type"]

Load = Callable[[Any], Any]
Dump = Callable[[Any], Any]


@attrs.frozen
class Converter:
    """How one type crosses the wire. ``dump is None`` means the native value is JSON-ready."""

    load: Load
    dump: Dump | None
    schema: dict[str, Any]
    #: the model class, when this converter is for a nested model (used by queries and schema)
    model: type | None = None
    #: the item converter of list/set/dict containers (used by dotted query paths)
    item: Converter | None = None
    #: the full dump (private fields included) where it differs from ``dump``
    dump_full: Dump | None = None
    #: the plain Python type values take after loading, when there is one
    python_type: Any = None
    #: value types that are valid as they are (no conversion needed): a fast path
    exact: tuple[type, ...] = ()
    #: simple limits (lengths, numeric bounds) that generated code checks inline with ``exact``
    guard: Constraints | None = None
    #: the tag and members of a union of models (``Cat | Dog``), told apart by the tag's value
    union: Tagged | None = None
    #: what generated code may do itself instead of calling ``load`` (see ``codegen``):
    #: ``"model"``, call the nested model's compiled load on a dict; ``"list"``, load the
    #: items of a list one by one with ``item``
    inline: Literal["model", "list"] | None = None
    #: whether ``None`` is a valid value (``T | None``)
    nullable: bool = False
    #: for ``T | None``, the converter of ``T``: generated code loads values but None with it
    non_null: Converter | None = None


@attrs.frozen
class TypeHandler:
    """A plugin-registered type: ``load`` raises ValueError/TypeError on bad input."""

    load: Callable[[Any], Any]
    dump: Callable[[Any], Any] | None
    schema: dict[str, Any]


class TypeRegistry:
    """Extra field types contributed by plugins, looked up by exact type then by subclass."""

    def __init__(self) -> None:
        self._handlers: dict[type, TypeHandler] = {}

    def register(
        self,
        tp: type,
        *,
        load: Callable[[Any], Any],
        dump: Callable[[Any], Any] | None = None,
        schema: Mapping[str, Any] | None = None,
    ) -> None:
        self._handlers[tp] = TypeHandler(load, dump, dict(schema or {}))

    def find(self, tp: Any) -> TypeHandler | None:
        if not isinstance(tp, type):
            return None
        handler = self._handlers.get(tp)
        if handler is not None:
            return handler
        for base, candidate in self._handlers.items():
            if issubclass(tp, base):
                return candidate
        return None


_registry = TypeRegistry()


def register_type(
    tp: type,
    *,
    load: Callable[[Any], Any],
    dump: Callable[[Any], Any] | None = None,
    schema: Mapping[str, Any] | None = None,
) -> None:
    """Teach the ODM a new field type.

    ``load`` receives the wire or native value and returns the native one, raising
    ``ValueError`` or ``TypeError`` with a readable message when it cannot; ``dump`` returns
    JSON-ready primitives; ``schema`` is the type's JSON Schema. Example (what tbone_mongo does)::

        register_type(ObjectId, load=ObjectId, dump=str, schema={"type": "string"})
    """
    _registry.register(tp, load=load, dump=dump, schema=schema)


def _type_error(expected: str, value: Any, code: str) -> Invalid:
    return Invalid.one(f"expected {expected}, got {describe(value)}", code)


# --- scalars -----------------------------------------------------------------------------


def _load_str(v: Any) -> str:
    if type(v) is str:
        return v
    if isinstance(v, str):
        return str(v)
    raise _type_error("a string", v, "string_type")


def _load_int(v: Any) -> int:
    if type(v) is int:
        return v
    # Integral floats such as 3.0 are what some JSON encoders emit for 3; anything else loses data.
    if type(v) is float and v.is_integer():
        return int(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return int(v)
    raise _type_error("an integer", v, "int_type")


def _load_float(v: Any) -> float:
    if type(v) is float or (isinstance(v, int | float) and not isinstance(v, bool)):
        f = float(v)
        if math.isfinite(f):
            return f
        raise Invalid.one("must be a finite number (not NaN or Infinity)", "finite_number")
    raise _type_error("a number", v, "float_type")


def _load_bool(v: Any) -> bool:
    if v is True or v is False:
        return bool(v)
    raise _type_error("true or false", v, "bool_type")


def _load_decimal(v: Any) -> Decimal:
    if isinstance(v, Decimal):
        d = v
    elif isinstance(v, str | int) and not isinstance(v, bool):
        try:
            d = Decimal(v)
        except InvalidOperation:
            raise Invalid.one("expected a decimal number", "decimal_parsing") from None
    elif type(v) is float:
        d = Decimal(repr(v))
    else:
        raise _type_error("a decimal number (as a string)", v, "decimal_type")
    if not d.is_finite():
        raise Invalid.one("must be a finite number (not NaN or Infinity)", "finite_number")
    return d


def _load_datetime(v: Any) -> dt.datetime:
    if type(v) is str:
        try:
            value = dt.datetime.fromisoformat(v)
        except ValueError:
            raise Invalid.one(
                "expected an ISO 8601 date-time such as 2024-05-01T12:00:00Z", "datetime_parsing"
            ) from None
    elif isinstance(v, dt.datetime):
        value = v
    else:
        raise _type_error("an ISO 8601 date-time string", v, "datetime_type")
    zone = value.tzinfo
    # a fixed offset (what parsing gives) always has one: utcoffset() need not be asked
    if type(zone) is not dt.timezone and (zone is None or value.utcoffset() is None):
        raise Invalid.one(
            "must include a timezone (for example 2024-05-01T12:00:00Z)", "timezone_aware"
        )
    return value


def _load_date(v: Any) -> dt.date:
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return v
    if type(v) is str:
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            raise Invalid.one(
                "expected an ISO 8601 date such as 2024-05-01", "date_parsing"
            ) from None
    raise _type_error("an ISO 8601 date string", v, "date_type")


def _load_time(v: Any) -> dt.time:
    if isinstance(v, dt.time):
        return v
    if type(v) is str:
        try:
            return dt.time.fromisoformat(v)
        except ValueError:
            raise Invalid.one(
                "expected an ISO 8601 time such as 12:30:00", "time_parsing"
            ) from None
    raise _type_error("an ISO 8601 time string", v, "time_type")


def _load_uuid(v: Any) -> uuid.UUID:
    if isinstance(v, uuid.UUID):
        return v
    if type(v) is str:
        try:
            return uuid.UUID(v)
        except ValueError:
            raise Invalid.one("expected a UUID", "uuid_parsing") from None
    raise _type_error("a UUID string", v, "uuid_type")


def _load_any(v: Any) -> Any:
    return v


def _iso(v: Any) -> str:
    return str(v.isoformat())


_SCALARS: dict[Any, Converter] = {
    str: Converter(_load_str, None, {"type": "string"}, python_type=str, exact=(str,)),
    int: Converter(_load_int, None, {"type": "integer"}, python_type=int, exact=(int,)),
    float: Converter(_load_float, None, {"type": "number"}, python_type=float, exact=(float,)),
    bool: Converter(_load_bool, None, {"type": "boolean"}, python_type=bool, exact=(bool,)),
    Decimal: Converter(
        _load_decimal, str, {"type": "string", "format": "decimal"}, python_type=Decimal
    ),
    dt.datetime: Converter(
        _load_datetime, _iso, {"type": "string", "format": "date-time"}, python_type=dt.datetime
    ),
    dt.date: Converter(_load_date, _iso, {"type": "string", "format": "date"}, python_type=dt.date),
    dt.time: Converter(_load_time, _iso, {"type": "string", "format": "time"}, python_type=dt.time),
    uuid.UUID: Converter(
        _load_uuid, str, {"type": "string", "format": "uuid"}, python_type=uuid.UUID
    ),
    Any: Converter(_load_any, None, {}),
    object: Converter(_load_any, None, {}),
}


def _load_none(v: Any) -> None:
    if v is not None:
        raise _type_error("null", v, "none_type")


# --- builders --------------------------------------------------------------------------------


class Builder:
    """Builds converters; ``model_converter`` is supplied by the model module (no import cycle)."""

    def __init__(
        self, model_converter: Callable[[type], Converter], is_model: Callable[[Any], bool]
    ):
        self._model_converter = model_converter
        self._is_model = is_model

    def build(self, tp: Any, constraints: Constraints | None = None) -> Converter:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            inner, *metadata = typing.get_args(tp)
            extra = constraints_from_metadata(metadata)
            fmt = _format_from_metadata(metadata)
            merged = (
                extra
                if constraints is None
                else (extra.merge(constraints) if extra else constraints)
            )
            for item in metadata:  # a marker that builds its own converter (tbone.Ref)
                if hasattr(item, "__tbone_build__"):
                    return item.__tbone_build__(self, merged)  # type: ignore[no-any-return]
            conv = self.build(inner, merged)
            return _with_format(conv, fmt) if fmt is not None else conv
        conv = self._build_plain(tp, origin)
        if constraints is not None and not constraints.is_empty():
            conv = _constrained(conv, constraints)
        return conv

    def _build_plain(self, tp: Any, origin: Any) -> Converter:
        if tp is None or tp is type(None):
            return Converter(_load_none, None, {"type": "null"})
        if origin in (typing.Union, types.UnionType):
            return self._union(typing.get_args(tp))
        if origin is typing.Literal:
            return _literal(typing.get_args(tp))
        if origin in (list, set, frozenset, tuple) or tp in (list, set, frozenset, tuple):
            return self._sequence(tp, origin or tp)
        if origin is dict or tp is dict or origin is Mapping:
            return self._mapping(tp)
        if hasattr(tp, "__supertype__"):  # typing.NewType
            return self.build(tp.__supertype__)
        if self._is_model(tp):
            return self._model_converter(tp)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return _enum(tp)
        handler = _registry.find(tp)
        if handler is not None:
            return _registered(handler, tp)
        scalar = _SCALARS.get(tp)
        if scalar is not None:
            return scalar
        raise TypeError(
            f"TBone cannot validate values of type {tp!r}; use a supported type or teach it with "
            "tbone.data.register_type()"
        )

    def _union(self, args: tuple[Any, ...]) -> Converter:
        nullable = type(None) in args
        members = [a for a in args if a is not type(None)]
        inner = self.build(members[0]) if len(members) == 1 else self._any_of(members)
        if not nullable:
            return inner
        load_inner = inner.load

        def load(v: Any) -> Any:
            return None if v is None else load_inner(v)

        dump = _nullable(inner.dump)
        return attrs.evolve(
            inner,
            load=load,
            dump=dump,
            dump_full=_nullable(inner.dump_full) if inner.dump_full else None,
            schema={"anyOf": [inner.schema, {"type": "null"}]},
            exact=(*inner.exact, type(None)) if inner.exact else (),
            nullable=True,
            non_null=inner,
        )

    def _any_of(self, members: list[Any]) -> Converter:
        if any(self._is_model(m) for m in members):
            return self._tagged(members)
        convs = [self.build(m) for m in members]

        def load(v: Any) -> Any:
            errors = []
            for conv in convs:
                try:
                    return conv.load(v)
                except Invalid as exc:
                    errors.extend(exc.errors)
            raise Invalid.one(
                "matches none of the allowed types: " + "; ".join(e["msg"] for e in errors[:5]),
                "union",
            )

        def dump(v: Any) -> Any:
            for conv in convs:
                pt = conv.python_type or conv.model
                if pt is not None and isinstance(v, pt):
                    return conv.dump(v) if conv.dump else v
            return v

        needs_dump = any(c.dump is not None for c in convs)
        return Converter(load, dump if needs_dump else None, {"anyOf": [c.schema for c in convs]})

    def _tagged(self, members: list[Any]) -> Converter:
        refuse_mixed(members, self._is_model)
        tagged = tag_of(members)
        convs = {m: self.build(m) for m in tagged.members}
        load, dump, dump_full = tagged_parts(tagged, convs)
        schema = tagged_schema(tagged, {m: c.schema for m, c in convs.items()})
        return Converter(load, dump, schema, dump_full=dump_full, union=tagged)

    def _sequence(self, tp: Any, container: Any) -> Converter:
        args = typing.get_args(tp)
        if container is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            raise TypeError(
                f"fixed-length tuples are not supported ({tp!r}); use tuple[T, ...] or list[T]"
            )
        item = self.build(args[0] if args else Any)
        load = _load_sequence(item.load, container)
        dump = _dump_sequence(item.dump)
        dump_full = _dump_sequence(item.dump_full) if item.dump_full else None
        schema: dict[str, Any] = {"type": "array", "items": item.schema}
        if container in (set, frozenset):
            schema["uniqueItems"] = True
        return Converter(
            load,
            dump,
            schema,
            item=item,
            dump_full=dump_full,
            python_type=container,
            inline="list" if container is list else None,
        )

    def _mapping(self, tp: Any) -> Converter:
        args = typing.get_args(tp)
        if args and args[0] is not str:
            raise TypeError(f"dict keys must be str to be JSON-ready ({tp!r})")
        item = self.build(args[1] if args else Any)
        load = _load_mapping(item.load)
        dump = _dump_mapping(item.dump)
        dump_full = _dump_mapping(item.dump_full) if item.dump_full else None
        schema = {"type": "object", "additionalProperties": item.schema}
        return Converter(load, dump, schema, item=item, dump_full=dump_full, python_type=dict)


def _nullable(dump: Dump | None) -> Dump | None:
    if dump is None:
        return None
    inner = dump

    def nullable_dump(v: Any) -> Any:
        return None if v is None else inner(v)

    return nullable_dump


def _load_sequence(load_item: Load, container: Any) -> Load:
    build = list if container is list else container
    is_identity = load_item in (_load_str, _load_any)
    exact = str if load_item is _load_str else None

    def load(v: Any) -> Any:
        if type(v) is not list and not isinstance(v, list | tuple | set | frozenset):
            raise _type_error("an array", v, "list_type")
        if is_identity and (exact is None or all(type(x) is exact for x in v)):
            return build(v)
        out: list[Any] = []
        append = out.append
        try:
            for x in v:
                append(load_item(x))
        except Invalid as exc:
            raise item_errors(exc, list(v), len(out), load_item) from None
        return out if build is list else build(out)

    return load


def item_errors(exc: Invalid, values: list[Any], failed_at: int, load_item: Load) -> Invalid:
    """Every error of a list whose item ``failed_at`` raised ``exc``: the items after it are
    loaded too, so that one response lists every problem, each located by its index."""
    errors = prefixed(exc.errors, failed_at)
    for i in range(failed_at + 1, len(values)):
        try:
            load_item(values[i])
        except Invalid as later:
            errors += prefixed(later.errors, i)
    return Invalid(errors)


def _dump_sequence(dump_item: Dump | None) -> Dump:
    if dump_item is None:
        return list
    item = dump_item

    def dump(v: Any) -> list[Any]:
        return [item(x) for x in v]

    return dump


def _load_mapping(load_item: Load) -> Load:
    def load(v: Any) -> dict[str, Any]:
        if not isinstance(v, Mapping):
            raise _type_error("an object", v, "dict_type")
        out = {}
        errors: list[ErrorDetail] | None = None
        for k, x in v.items():
            if type(k) is not str:
                errors = (errors or []) + [
                    {"loc": [str(k)], "msg": "keys must be strings", "type": "key_type"}
                ]
                continue
            try:
                out[k] = load_item(x)
            except Invalid as exc:
                errors = (errors or []) + prefixed(exc.errors, k)
        if errors:
            raise Invalid(errors)
        return out

    return load


def _dump_mapping(dump_item: Dump | None) -> Dump:
    if dump_item is None:
        return dict
    item = dump_item

    def dump(v: Any) -> dict[str, Any]:
        return {k: item(x) for k, x in v.items()}

    return dump


def _literal(values: tuple[Any, ...]) -> Converter:
    allowed = list(values)
    shown = ", ".join(repr(v) for v in allowed)

    def load(v: Any) -> Any:
        for a in allowed:
            if v == a and type(v) is type(a):
                return a
        raise Invalid.one(f"must be one of: {shown}", "literal")

    dumps_enum = any(isinstance(a, enum.Enum) for a in allowed)
    wire = [a.value if isinstance(a, enum.Enum) else a for a in allowed]
    kinds = {type(a) for a in allowed}
    # Literal["a", "b"]: generated code checks `type(v) is str and v in {...}` itself
    inline = len(kinds) == 1 and kinds <= {str, int}
    return Converter(
        load,
        _enum_value if dumps_enum else None,
        {"enum": wire},
        exact=tuple(kinds) if inline else (),
        guard=Constraints(choices=frozenset(allowed)) if inline else None,
    )


def _enum_value(v: Any) -> Any:
    return v.value if isinstance(v, enum.Enum) else v


def _enum(tp: type[enum.Enum]) -> Converter:
    shown = ", ".join(repr(m.value) for m in tp)
    by_value = {m.value: m for m in tp}

    def load(v: Any) -> Any:
        if isinstance(v, tp):
            return v
        try:
            member = by_value.get(v)
        except TypeError:  # unhashable input
            member = None
        if member is None or type(member.value) is not type(v):
            raise Invalid.one(f"must be one of: {shown}", "enum")
        return member

    return Converter(
        load, _enum_value, {"enum": list(by_value), "title": tp.__name__}, python_type=tp
    )


def _registered(handler: TypeHandler, tp: type) -> Converter:
    user_load = handler.load

    def load(v: Any) -> Any:
        try:
            return user_load(v)
        except (ValueError, TypeError) as exc:
            raise Invalid.one(str(exc) or f"not a valid {tp.__name__}", "value_error") from None

    return Converter(load, handler.dump, handler.schema, python_type=tp)


def _constrained(conv: Converter, constraints: Constraints) -> Converter:
    check = constraints.checker()
    if check is None:
        return conv
    inner = conv.load

    def load(v: Any) -> Any:
        value = inner(v)
        if value is not None:
            check(value)
        return value

    inline = conv.exact and conv.guard is None and _inlinable(constraints, conv.exact)
    return attrs.evolve(
        conv,
        load=load,
        schema=_constraint_schema(conv.schema, constraints),
        exact=conv.exact if inline else (),
        guard=constraints if inline else None,
        inline=None,
        non_null=None,
    )


def _inlinable(c: Constraints, exact: tuple[type, ...]) -> bool:
    """Whether generated code can check ``c`` itself on values of the ``exact`` types."""
    kinds = set(exact) - {type(None)}
    if c.pattern is not None and kinds != {str}:
        return False
    if c.choices is not None and not _hashable_of(c.choices, kinds):
        return False
    bounds = (c.ge, c.gt, c.le, c.lt)
    return all(b is None or (type(b) in (int, float)) for b in bounds)


def _hashable_of(choices: Collection[Any], kinds: set[type]) -> bool:
    # `v in frozenset(choices)` matches what the checker does (equal value, same type) only when
    # every choice is of the one type values are checked to have: True == 1, but not for it.
    return len(kinds) == 1 and all(type(c) in kinds for c in choices)


def _constraint_schema(base: dict[str, Any], c: Constraints) -> dict[str, Any]:
    schema = dict(base)
    is_array = base.get("type") == "array"
    is_object = base.get("type") == "object"
    if c.min_length is not None:
        schema["minItems" if is_array else "minProperties" if is_object else "minLength"] = (
            c.min_length
        )
    if c.max_length is not None:
        schema["maxItems" if is_array else "maxProperties" if is_object else "maxLength"] = (
            c.max_length
        )
    if c.pattern is not None:
        schema["pattern"] = c.pattern
    for key, name in (
        ("ge", "minimum"),
        ("gt", "exclusiveMinimum"),
        ("le", "maximum"),
        ("lt", "exclusiveMaximum"),
    ):
        bound = getattr(c, key)
        if bound is not None:
            schema[name] = bound if isinstance(bound, int | float) else str(bound)
    if c.choices is not None:
        schema["enum"] = [_enum_value(v) for v in c.choices]
    return schema


# --- string formats (tbone.types) --------------------------------------------------------------


@attrs.frozen
class Format:
    """``Annotated`` marker that checks a string format; used by ``tbone.types``."""

    name: str
    check: Callable[[str], str]


def _format_from_metadata(metadata: list[Any]) -> Format | None:
    for item in metadata:
        if isinstance(item, Format):
            return item
    return None


def _with_format(conv: Converter, fmt: Format) -> Converter:
    inner = conv.load
    check = fmt.check

    def load(v: Any) -> Any:
        value = inner(v)
        if value is None:
            return value
        try:
            return check(value)
        except ValueError as exc:
            raise Invalid.one(str(exc), fmt.name) from None

    return attrs.evolve(
        conv,
        load=load,
        schema={**conv.schema, "format": fmt.name},
        exact=(),
        inline=None,
        non_null=None,
    )
