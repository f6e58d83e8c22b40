"""The arguments of the ``UPDATE_OPS`` script: the operators, and how each touched indexed or
unique field's entries follow the write (see ``_scripts``).

Only what the script does exactly is sent to it: every operator on any path (``add_to_set``
and ``pull`` with ``str``/``int``/``float``/``bool`` items), indexed and unique fields included
when set, or when incremented ``int`` fields (the script spells an integer's index key and
unique value as Python does). The rest (list operators on a unique field, an incremented
indexed or unique ``float``, amounts beyond 2^53) is left to the store's read +
compare-and-swap.
"""

from __future__ import annotations

import json
from typing import Any, Final

from tbone.errors import ValidationError
from tbone.storage import CollectionSpec
from tbone.storage.ops import Op, UpdateOps

from ._index import Indexes

__all__ = ["op_args"]

_BIG: Final = 2**53  # Lua numbers are doubles: integers up to here are exact
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_canonical = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, sort_keys=True
).encode


def op_args(
    spec: CollectionSpec, indexes: Indexes, pk: str, ops: UpdateOps, normal: Any
) -> list[Any] | None:
    """The script's arguments after marker, pk and version; ``None`` if it cannot apply them.

    ``normal`` is the store's spelling of a unique value (``2.0`` as ``2``)."""
    args: list[Any] = [len(ops.ops)]
    index_args: list[Any] = []
    unique_args: list[Any] = []
    for k, op in enumerate(ops.ops, start=1):
        top = op.path[0]
        field = indexes.by_name(top)
        unique = top in spec.unique
        if (field is not None or unique) and not _follows(op):
            return None
        if not _sendable(op):
            return None
        args += [op.kind, len(op.path), *op.path, *_payload(op)]
        if field is not None:
            if op.kind == "set":
                out: list[str] = []
                field.entries({top: op.value}, pk, out)
                index_args += [top, "set", _encode(out)]
            else:
                index_args += [top, "int", k]
        if unique:
            u = spec.unique.index(top) + 1
            if op.kind == "set":
                value = "" if op.value is None else _canonical(normal(op.value))
                unique_args += [u, "set", value]
            else:
                unique_args += [u, "int", k]
    return [*args, len(index_args) // 3, *index_args, len(unique_args) // 3, *unique_args]


def _follows(op: Op) -> bool:
    """Whether the script can keep the field's index and unique value exact for ``op``."""
    if len(op.path) != 1:
        return False
    return op.kind == "set" or (op.kind == "inc" and op.integer)


def _sendable(op: Op) -> bool:
    if op.kind in ("add_to_set", "pull"):
        return op.plain_items
    if op.kind == "inc":
        return not op.integer or abs(op.value) <= _BIG
    return True


def _payload(op: Op) -> list[Any]:
    if op.kind == "set":
        return [_text(op, op.value)]
    if op.kind == "inc":
        bounds = op.bounds()
        flat = [x for name, bound in bounds for x in (name, repr(bound))]
        return [repr(op.value), "1" if op.integer else "0", len(bounds), *flat]
    items = [_text(op, item) for item in op.value]
    bound = op.min_length if op.kind == "pull" else op.max_length
    limit = "" if bound is None else bound
    return [limit, len(items), *items]


def _text(op: Op, value: Any) -> str:
    text = _encode(value)
    try:
        text.encode()
    except UnicodeEncodeError:
        msg = "holds a lone UTF-16 surrogate, which has no UTF-8 form: Redis cannot store it"
        raise ValidationError.single(list(op.path), msg, "surrogate") from None
    return text
