"""Update operators as one ``find_one_and_update``: ``$set``, ``$inc``, ``$push``,
``$addToSet``, ``$pull`` (and ``$inc`` of the version), with every limit in the filter.

The limits are plain query conditions on the stored values, so MongoDB checks them in the
same atomic step as the write: the BSON type a path holds (``int``/``long`` for an ``int``
field: an ``int`` stays one), an incremented integer's bounds (``stock + a >= 0`` is
``stock >= -a``, exact for integers) and the 64-bit range, a list's length after a push
(``tags.<max - n>`` must not exist). What has no exact filter form here (bounds of a float,
lengths after ``add_to_set``/``pull``, pushes into free-form dicts) is left to the store's
read + compare-and-swap.
"""

from __future__ import annotations

from typing import Any, Final

import attrs

from tbone.data import Model, fields_of
from tbone.storage.ops import Op, UpdateOps

from ._codec import VERSION, Plan, codec_of

__all__ = ["INT64_MAX", "INT64_MIN", "MongoUpdate", "compile_update"]

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
_MAX_FLOAT: Final = 1.7976931348623157e308
_INTS: Final = ["int", "long"]
_NUMBERS: Final = ["int", "long", "double"]
_OPERATOR: Final = {"push": "$push", "add_to_set": "$addToSet"}


@attrs.frozen
class MongoUpdate:
    """The filter conditions (``$and``-ed with the key) and the update document."""

    conditions: list[dict[str, Any]]
    update: dict[str, dict[str, Any]]
    #: a limit no stored value can meet (an impossible bound, a push past max_length)
    impossible: bool = False


def compile_update(model: type[Model], ops: UpdateOps) -> MongoUpdate | None:
    """The MongoDB form of ``ops``, or ``None`` if one of them has no exact one here."""
    out = MongoUpdate([{VERSION: {"$type": _INTS}}], {"$inc": {VERSION: 1}})
    impossible = False
    for op in ops.ops:
        path = ".".join(op.path)
        if op.kind == "set":
            plan = _plan_at(model, op.path)
            if plan is None:
                return None
            out.update.setdefault("$set", {})[path] = _to_bson(plan, op.value)
        elif op.kind == "inc":
            done = _inc(op, path, out)
            if done is None:
                return None
            impossible = impossible or not done
        else:
            done = _list(model, op, path, out)
            if done is None:
                return None
            impossible = impossible or not done
    return attrs.evolve(out, impossible=impossible)


def _inc(op: Op, path: str, out: MongoUpdate) -> bool | None:
    """Add the conditions and ``$inc`` of one increment; False if it can never apply."""
    a = op.value
    if not op.integer:
        if op.bounds():
            return None  # x + a >= b is not x >= b - a in floating point
        limit = {"$lte": _MAX_FLOAT - a} if a > 0 else {"$gte": -_MAX_FLOAT - a}
        out.conditions.append({path: {"$type": _NUMBERS, **limit}})
        out.update["$inc"][path] = a
        return True
    if not INT64_MIN <= a <= INT64_MAX:
        return False
    conditions: dict[str, Any] = {"$type": _INTS}
    lows = [INT64_MIN - a] + [b - a for name, b in op.bounds() if name == "ge"]
    highs = [INT64_MAX - a] + [b - a for name, b in op.bounds() if name == "le"]
    low, high = max(lows), min(highs)
    for name, b in op.bounds():
        if name == "gt":
            low = max(low, _next_int_above(b - a))
        elif name == "lt":
            high = min(high, _next_int_below(b - a))
    if low > high:
        return False
    conditions["$gte"], conditions["$lte"] = max(low, INT64_MIN), min(high, INT64_MAX)
    out.conditions.append({path: conditions})
    out.update["$inc"][path] = a
    return True


def _next_int_above(x: int | float) -> int:
    """The smallest integer strictly greater than ``x``."""
    n = int(x // 1)
    return n + 1


def _next_int_below(x: int | float) -> int:
    """The greatest integer strictly less than ``x``."""
    n = int(-(-x // 1))
    return n - 1


def _list(model: type[Model], op: Op, path: str, out: MongoUpdate) -> bool | None:
    plan = _plan_at(model, op.path)
    if plan is None or (op.kind != "push" and not op.plain_items):
        return None
    if op.kind != "push" and (op.max_length is not None or op.min_length is not None):
        return None  # the length after it depends on what the list holds
    items = _to_bson(plan, list(op.value))
    out.conditions.append({path: {"$type": "array"}})
    if op.kind == "pull":
        out.update.setdefault("$pull", {})[path] = {"$in": items}
        return True
    if op.max_length is not None:
        room = op.max_length - len(items)
        if room < 0:
            return False
        out.conditions.append({f"{path}.{room}": {"$exists": False}})
    out.update.setdefault(_OPERATOR[op.kind], {})[path] = {"$each": items}
    return True


def _plan_at(model: type[Model], path: tuple[str, ...]) -> Plan | None:
    """How the value at ``path`` is stored, when the path runs through model fields only."""
    current: type[Model] = model
    for depth, name in enumerate(path):
        info = fields_of(current).get(name)
        if info is None:
            return None
        if depth == len(path) - 1:
            return codec_of(current, top=depth == 0).field(name)
        nested = info.converter.model
        if not (isinstance(nested, type) and issubclass(nested, Model)):
            return None
        current = nested
    return None


def _to_bson(plan: Plan, value: Any) -> Any:
    return value if plan.to_bson is None or value is None else plan.to_bson(value)
