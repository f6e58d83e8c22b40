"""Atomic update operators: what ``Collection.update(pk, inc=..., push=...)`` asks a store to do.

:func:`compile_ops` checks the operators against the model before anything is written (unknown
fields, ``inc`` on a field that holds no number, pushed items of the wrong type) and turns them
into :class:`UpdateOps`: resolved paths, JSON-ready values, and the limits the result must keep
(the bounds of an incremented number, the length bounds of a list). A store applies them in one
atomic step, checking those limits in the same step; :func:`apply_ops` is the reference
semantics, in Python (the memory store, and ``Store.update_ops``'s default, use it).

Operators, each a mapping of dotted paths (``"author.born"``, into nested models and dicts):

- ``set``: top-level fields replaced (``Collection.update``'s ``changes``);
- ``inc``: a number added to an ``int`` or ``float`` field (an ``int`` field takes whole numbers
  only, and stays an ``int``); the field must hold a number, not null;
- ``push``: an item appended to a list (``each(a, b)`` appends several);
- ``add_to_set``: items appended unless the list holds them already;
- ``pull``: every occurrence of the items removed from a list.
"""

from __future__ import annotations

import asyncio
import copy
import math
import operator
import random
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Literal

import attrs

from tbone.data import Constraints, Converter, FieldInfo, Model, fields_of
from tbone.data._invalid import Invalid
from tbone.data.constraints import constraints_from_metadata
from tbone.errors import ErrorDetail, QueryError, ValidationError

from .matcher import same
from .path import _builder, resolve

__all__ = [
    "SWAP_ATTEMPTS",
    "Each",
    "Op",
    "OpKind",
    "UpdateOps",
    "apply_ops",
    "backoff",
    "bound_error",
    "compile_ops",
    "each",
    "length_error",
]

OpKind = Literal["set", "inc", "push", "add_to_set", "pull"]
LIST_OPS: Final = ("push", "add_to_set", "pull")

_SEGMENT: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")  # field names and plain dict keys
_MAX_ITEMS: Final = 1000  # items one list operator may carry
_ITEM_CACHE: Final = "__tbone_op_items__"
_SCALARS: Final = (str, int, float, bool)

SWAP_ATTEMPTS: Final = 200
"""How often a read + compare-and-swap update retries when other writers got in first."""


async def backoff(attempt: int) -> None:
    """Wait a little, randomly, longer after each lost race (so contenders spread out)."""
    await asyncio.sleep(random.uniform(0, min(0.02, 0.0005 * 2 ** min(attempt, 10))))


@attrs.frozen
class Each:
    """Several items for one list operator: ``push={"tags": each("a", "b")}``."""

    items: tuple[Any, ...]


def each(*items: Any) -> Each:
    """Push (or add, or pull) several items at once: ``push={"tags": each("a", "b")}``."""
    return Each(items)


@attrs.frozen
class Op:
    """One operator on one path, with JSON-ready values.

    ``value`` is the new value (``set``), the amount (``inc``), or a tuple of items (list
    operators). ``integer``: the incremented field holds ``int``s. ``ge gt le lt``: the bounds
    the incremented number must keep; ``min_length max_length``: those of the list after a list
    operator. ``plain_items``: the items are ``str``/``int``/``float``/``bool`` (a store may
    compare them as such for ``add_to_set`` and ``pull``).
    """

    kind: OpKind
    path: tuple[str, ...]
    value: Any
    integer: bool = False
    ge: int | float | None = None
    gt: int | float | None = None
    le: int | float | None = None
    lt: int | float | None = None
    min_length: int | None = None
    max_length: int | None = None
    plain_items: bool = True

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    def bounds(self) -> list[tuple[str, int | float]]:
        """The numeric bounds that are set, as ``(name, bound)``: ``[("ge", 0)]``."""
        found = [("ge", self.ge), ("gt", self.gt), ("le", self.le), ("lt", self.lt)]
        return [(name, bound) for name, bound in found if bound is not None]


@attrs.frozen
class UpdateOps:
    """The operators of one update, checked against the model.

    ``store_checked`` is whether the limits carried by the operators are everything the model
    would check on the result; when it is not (model validators, ``choices``, ``unique_with``
    ...), the collection validates the whole result in Python and writes it with a version
    check instead of asking the store to apply the operators.
    """

    ops: tuple[Op, ...]
    store_checked: bool = True

    def fields(self) -> frozenset[str]:
        """The top-level fields the operators change."""
        return frozenset(op.path[0] for op in self.ops)


# -- compiling -------------------------------------------------------------------------------


@attrs.frozen
class _Leaf:
    """What a path holds: its type (``None`` stripped), constraints, and how it is checked."""

    path: tuple[str, ...]
    tp: Any
    constraints: Constraints
    field: FieldInfo | None
    checked: bool  # no validator on the way that only a whole-model check would run


def compile_ops(
    model: type[Model],
    *,
    pk: str,
    changes: Mapping[str, Any] | None = None,
    inc: Mapping[str, Any] | None = None,
    push: Mapping[str, Any] | None = None,
    add_to_set: Mapping[str, Any] | None = None,
    pull: Mapping[str, Any] | None = None,
    scoped: Iterable[str] = (),
) -> UpdateOps:
    """Check and compile the operators of one update; raise ``ValidationError`` with every
    problem found (located at the field's path), before anything is written.

    ``scoped`` names fields a derived unique key depends on (``unique_with``): changing one
    makes ``store_checked`` false.
    """
    errors: list[ErrorDetail] = []
    found: list[tuple[Op, bool]] = []
    for key, value in _items(changes, "changes", errors):
        found += _checked(_compile_set(model, pk, key, value, errors))
    for key, amount in _items(inc, "inc", errors):
        found += _checked(_compile_inc(model, pk, key, amount, errors))
    for kind, given in (("push", push), ("add_to_set", add_to_set), ("pull", pull)):
        for key, value in _items(given, kind, errors):
            found += _checked(_compile_list(model, pk, kind, key, value, errors))  # type: ignore[arg-type]  # kind is a list operator
    ops = tuple(op for op, _ in found)
    _check_overlaps(ops, errors)
    if errors:
        raise ValidationError(errors)
    scoped_set = set(scoped)
    checked = (
        all(ok for _, ok in found)
        and not _has_model_validators(model, ops)
        and not any(op.path[0] in scoped_set for op in ops)
    )
    return UpdateOps(ops, checked)


def _checked(result: tuple[Op, bool] | None) -> list[tuple[Op, bool]]:
    return [] if result is None else [result]


def _items(given: Any, name: str, errors: list[ErrorDetail]) -> list[tuple[str, Any]]:
    if given is None:
        return []
    if not isinstance(given, Mapping):
        errors.append(_error([name], "must map field paths to values", "type"))
        return []
    out = []
    for key, value in given.items():
        if not isinstance(key, str):
            errors.append(_error([name], f"field paths are strings, not {key!r}", "type"))
        else:
            out.append((key, value))
    return out


def _compile_set(
    model: type[Model], pk: str, key: str, value: Any, errors: list[ErrorDetail]
) -> tuple[Op, bool] | None:
    fields = fields_of(model)
    info = fields.get(key)
    if info is None:
        allowed = ", ".join(sorted(fields))
        errors.append(_error([key], f"unknown field '{key}'; allowed: {allowed}", "unknown_field"))
        return None
    try:
        native = info.load(value)
    except ValidationError as exc:
        errors.extend(exc.errors)
        return None
    if key == pk:
        return None  # the same key (the collection refused a different one): nothing to set
    return Op("set", (key,), _dump(info.converter, native)), not info.options.validators


def _compile_inc(
    model: type[Model], pk: str, key: str, amount: Any, errors: list[ErrorDetail]
) -> tuple[Op, bool] | None:
    leaf = _leaf(model, pk, key, errors)
    if leaf is None:
        return None
    loc = list(leaf.path)
    if leaf.tp not in (int, float):
        what = getattr(leaf.tp, "__name__", str(leaf.tp))
        errors.append(_error(loc, f"cannot add to '{key}': it holds {what}, not a number", "inc"))
        return None
    if type(amount) not in (int, float) or (type(amount) is float and not math.isfinite(amount)):
        errors.append(_error(loc, f"inc takes a finite number, not {amount!r}", "inc"))
        return None
    integer = leaf.tp is int
    if integer and type(amount) is not int:
        errors.append(_error(loc, f"'{key}' holds whole numbers: inc by an int", "int"))
        return None
    c = leaf.constraints
    bounds = {name: getattr(c, name) for name in ("ge", "gt", "le", "lt")}
    plain = all(b is None or type(b) in (int, float) for b in bounds.values())
    checked = leaf.checked and plain and c.choices is None
    if not plain:
        bounds = dict.fromkeys(bounds)
    value = amount if integer else float(amount)
    return Op("inc", leaf.path, value, integer, **bounds), checked


def _compile_list(
    model: type[Model],
    pk: str,
    kind: Literal["push", "add_to_set", "pull"],
    key: str,
    value: Any,
    errors: list[ErrorDetail],
) -> tuple[Op, bool] | None:
    leaf = _leaf(model, pk, key, errors)
    if leaf is None:
        return None
    loc = list(leaf.path)
    origin = typing.get_origin(leaf.tp) or leaf.tp
    if origin not in ((list, set) if kind != "push" else (list,)):
        what = "a set: use add_to_set" if origin is set else "no list"
        errors.append(_error(loc, f"cannot {kind} to '{key}': it holds {what}", kind))
        return None
    items = value.items if isinstance(value, Each) else (value,)
    if len(items) > _MAX_ITEMS:
        errors.append(_error(loc, f"at most {_MAX_ITEMS} items per operator", "too_many"))
        return None
    conv = _item_converter(model, leaf)
    dumped = []
    for i, item in enumerate(items):
        try:
            dumped.append(_dump(conv, conv.load(item)))
        except Invalid as exc:
            where = loc if len(items) == 1 and not isinstance(value, Each) else [*loc, i]
            errors.extend({**e, "loc": [*where, *e["loc"]]} for e in exc.errors)
    if len(dumped) < len(items):
        return None
    c = leaf.constraints
    plain = all(type(v) in _SCALARS for v in dumped)
    checked = leaf.checked and c.choices is None and (kind == "push" or plain)
    return Op(
        kind,
        leaf.path,
        tuple(dumped),
        min_length=c.min_length,
        max_length=c.max_length,
        plain_items=plain,
    ), checked


def _leaf(model: type[Model], pk: str, key: str, errors: list[ErrorDetail]) -> _Leaf | None:
    parts = tuple(key.split("."))
    bad = [p for p in parts if not _SEGMENT.match(p)]
    if bad:
        msg = "paths name fields and plain keys (letters, digits, _) joined by dots"
        errors.append(_error([key], msg, "path"))
        return None
    if parts[0] == pk:
        errors.append(_error(list(parts), "the primary key cannot change", "pk"))
        return None
    try:
        resolve(model, parts, loc=key)
    except QueryError as exc:
        errors.extend({**e, "loc": list(parts)} for e in exc.errors)
        return None
    return _walk(model, parts)


def _walk(model: type[Model], parts: tuple[str, ...]) -> _Leaf:
    tp: Any = model
    info: FieldInfo | None = None
    checked = True
    metadata: list[Any] = []
    for name in parts:
        inner, metadata = _unwrap(tp)
        if isinstance(inner, type) and issubclass(inner, Model):
            info = fields_of(inner)[name]
            checked = checked and not info.options.validators
            tp = info.type
        else:  # a dict (resolve checked the path)
            info = None
            args = typing.get_args(inner)
            tp = args[1] if args else Any
    leaf, metadata = _unwrap(tp)
    constraints = constraints_from_metadata(metadata) or Constraints()
    if info is not None:
        constraints = constraints.merge(info.options.constraints)
    return _Leaf(parts, leaf, constraints, info, checked)


def _unwrap(tp: Any) -> tuple[Any, list[Any]]:
    """The type without ``Annotated`` and without ``None`` in a union, and its metadata."""
    metadata: list[Any] = []
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp, *more = typing.get_args(tp)
            metadata += more
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) != 1:
                return tp, metadata
            tp = members[0]
        else:
            return tp, metadata


def _item_converter(model: type[Model], leaf: _Leaf) -> Converter:
    # Cached on the model class, like the query paths' converters.
    cache: dict[tuple[str, ...], Converter] | None = model.__dict__.get(_ITEM_CACHE)
    if cache is None:
        cache = {}
        setattr(model, _ITEM_CACHE, cache)
    conv = cache.get(leaf.path)
    if conv is None:
        args = typing.get_args(leaf.tp)
        conv = cache[leaf.path] = _builder().build(args[0] if args else Any)
    return conv


def _dump(conv: Converter, native: Any) -> Any:
    dump = conv.dump_full or conv.dump
    return native if dump is None or native is None else dump(native)


def _has_model_validators(model: type[Model], ops: Sequence[Op]) -> bool:
    from tbone.data.model import _codec  # the model's compiled codec knows its validators

    if _codec(model).model_validators:
        return True
    for op in ops:
        tp: Any = model
        for name in op.path[:-1]:
            inner, _ = _unwrap(tp)
            if isinstance(inner, type) and issubclass(inner, Model):
                if _codec(inner).model_validators:
                    return True
                tp = fields_of(inner)[name].type
            else:
                break
        inner, _ = _unwrap(tp)
        if isinstance(inner, type) and issubclass(inner, Model) and _codec(inner).model_validators:
            return True
    return False


def _check_overlaps(ops: Sequence[Op], errors: list[ErrorDetail]) -> None:
    seen: list[tuple[str, ...]] = []
    for op in ops:
        for other in seen:
            shorter = min(len(other), len(op.path))
            if other[:shorter] == op.path[:shorter]:
                msg = f"'{op.dotted}' and '{'.'.join(other)}' overlap: change each path once"
                errors.append(_error(list(op.path), msg, "overlap"))
                break
        seen.append(op.path)


def _error(loc: Sequence[str | int], msg: str, kind: str) -> ErrorDetail:
    return {"loc": list(loc), "msg": msg, "type": kind}


# -- applying --------------------------------------------------------------------------------


def apply_ops(doc: Mapping[str, Any], ops: UpdateOps) -> dict[str, Any]:
    """A copy of the stored document ``doc`` with ``ops`` applied: the reference semantics.

    Raise ``ValidationError`` (nothing is changed) when a path holds no number or no list, a
    number would leave its bounds, an ``int`` would stop being one, or a list its lengths.
    """
    out = copy.deepcopy(dict(doc))
    for op in ops.ops:
        parent = _parent(out, op)
        name = op.path[-1]
        if op.kind == "set":
            parent[name] = op.value
        elif op.kind == "inc":
            parent[name] = _incremented(op, parent.get(name))
        else:
            parent[name] = _listed(op, parent.get(name))
    return out


def _parent(doc: dict[str, Any], op: Op) -> dict[str, Any]:
    node: Any = doc
    for depth, name in enumerate(op.path[:-1]):
        node = node.get(name) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            where = ".".join(op.path[: depth + 1])
            raise ValidationError.single(
                list(op.path), f"cannot {op.kind} '{op.dotted}': '{where}' is null", "null"
            )
    if not isinstance(node, dict):  # pragma: no cover - stored documents are objects
        raise ValidationError.single(list(op.path), "the document is not an object", "null")
    return node


def _incremented(op: Op, current: Any) -> int | float:
    if not isinstance(current, int | float) or isinstance(current, bool):  # int subclasses
        raise ValidationError.single(
            list(op.path), f"cannot add to '{op.dotted}': it holds {current!r}, not a number", "inc"
        )
    result: int | float = current + op.value
    if op.integer and type(result) is not int:
        raise ValidationError.single(list(op.path), f"'{op.dotted}' must stay an int", "int")
    if type(result) is float and not math.isfinite(result):
        raise ValidationError.single(list(op.path), f"'{op.dotted}' would overflow", "overflow")
    refused = bound_error(op, current, result)
    if refused is not None:
        raise refused
    return result


def bound_error(op: Op, current: Any, result: int | float) -> ValidationError | None:
    """The error for an ``inc`` whose result leaves a bound (what every store reports)."""
    for name, bound in op.bounds():
        if not _BOUNDS[name][0](result, bound):
            msg = (
                f"must be {_BOUNDS[name][1]} {bound}: adding {op.value} to {current} "
                f"would make {op.dotted} {result}"
            )
            return ValidationError.single(list(op.path), msg, name)
    return None


_BOUNDS: Final[dict[str, tuple[Callable[[Any, Any], bool], str]]] = {
    "ge": (operator.ge, "at least"),
    "gt": (operator.gt, "greater than"),
    "le": (operator.le, "at most"),
    "lt": (operator.lt, "less than"),
}


def _listed(op: Op, current: Any) -> list[Any]:
    if not isinstance(current, list):
        raise ValidationError.single(
            list(op.path), f"cannot {op.kind} '{op.dotted}': it holds {current!r}", op.kind
        )
    items = list(op.value)
    if op.kind == "push":
        result = [*current, *items]
    elif op.kind == "add_to_set":
        result = list(current)
        for item in items:
            if not any(same(item, x) for x in result):
                result.append(item)
    else:
        result = [x for x in current if not any(same(x, item) for item in items)]
    refused = length_error(op, len(result))
    if refused is not None:
        raise refused
    return result


def length_error(op: Op, length: int) -> ValidationError | None:
    """The error for a list operator whose result has too many or too few items."""
    if op.max_length is not None and length > op.max_length:
        msg = f"'{op.dotted}' must have at most {op.max_length} items; it would have {length}"
        return ValidationError.single(list(op.path), msg, "max_length")
    if op.min_length is not None and length < op.min_length:
        msg = f"'{op.dotted}' must have at least {op.min_length} items; it would have {length}"
        return ValidationError.single(list(op.path), msg, "min_length")
    return None
