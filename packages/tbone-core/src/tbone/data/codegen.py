"""Per-model code generation: the ``load``, ``check``, ``dump`` and ``dump_full`` of a model.

Each model class gets, on first use, four Python functions written for it and compiled with
``exec`` (as attrs writes ``__init__``): straight-line code, one block per field, in declaration
order, with no loop over the fields and no lookup of their metadata. ``codec.source`` holds the
generated text, to read when debugging (``print(tbone.data.model._codec(Book).source)``).

How a field's value is loaded:

* values the field takes as they are (a ``str`` for ``str``, an ``int`` for ``int | None``...)
  are checked by an inline expression: the exact type, then the simple limits (lengths, numeric
  bounds, a pattern, a set of choices or ``Literal`` values). Passing, the value is stored as is.
* a dict for a nested model goes straight to that model's generated ``load``;
* a list for ``list[T]`` is loaded item by item in the loop itself, each item by the same rules;
* anything else calls the field's converter (``convert.py``), which converts, or raises
  :class:`Invalid` with the complete error list of that value.

The inline checks only decide when the converter may be skipped: a value failing one goes
through the converter, so every error message, type and location comes from one place. Errors
are collected for every field before ``Invalid`` is raised, each located under its field name
(and list index), as the converters do. The object is built without ``__init__``: the loaded
values become its ``__dict__``. Unknown keys are counted, not searched for: the keys found plus
the defaults filled in must be all of ``out``, and only when they are not is the data scanned.

The names the generated code uses (converters, bounds, nested loads) live in its namespace;
a nested model's functions are bound on their first call, so models may refer to each other.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeGuard

from ..errors import ErrorDetail
from ._invalid import Invalid, describe, prefixed
from .convert import Converter, item_errors
from .fields import FieldInfo

__all__ = ["CompiledCodec", "generate"]

_MISSING: Any = object()


class CompiledCodec(Protocol):
    """What ``generate`` reads from a model's codec and fills in."""

    model: type
    fields: dict[str, FieldInfo]
    has_validators: bool
    load: Callable[[Any], Any]
    check: Callable[[Any], None]
    dump: Callable[[Any], dict[str, Any]]
    dump_full: Callable[[Any], dict[str, Any]]
    source: str

    def run_validators(self, obj: Any) -> None: ...


CodecOf = Callable[[type], CompiledCodec]


def generate(
    codec: CompiledCodec, codec_of: CodecOf, computed: Mapping[str, Callable[[Any], Any]]
) -> None:
    """Write, compile and install the four functions of ``codec``; ``codec_of`` finds the
    codec of a nested model, ``computed`` maps computed field names to their dumpers."""
    ns = _Namespace(codec, codec_of)
    source = "\n".join(
        [
            *_load_source(codec, ns),
            *_check_source(codec, ns),
            *_dump_source(codec, ns, full=False, computed=computed),
            *_dump_source(codec, ns, full=True, computed={}),
        ]
    )
    exec(compile(source, f"<tbone codec {codec.model.__qualname__}>", "exec"), ns.names)
    codec.load, codec.check = ns.names["load"], ns.names["check"]
    codec.dump, codec.dump_full = ns.names["dump"], ns.names["dump_full"]
    codec.source = source


class _Namespace:
    """The globals of the generated code, each value bound under a fresh name."""

    def __init__(self, codec: CompiledCodec, codec_of: CodecOf) -> None:
        self._codec_of = codec_of
        fields = codec.fields
        self.names: dict[str, Any] = {
            "MISSING": _MISSING,
            "Invalid": Invalid,
            "Mapping": Mapping,
            "model": codec.model,
            "new": object.__new__,
            "missing": _missing,
            "failed": _failed,
            "item_errors": item_errors,
            "extra": _extra,
            "not_an_object": _not_an_object,
            "known": frozenset(fields),
            # private fields are never named to clients, even in the list of allowed ones
            "listed": ", ".join(sorted(n for n, f in fields.items() if not f.options.private)),
            "run_validators": codec.run_validators,
        }

    def bind(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{len(self.names)}"
        self.names[name] = value
        return name

    def nested(self, model: type, attribute: str) -> str:
        """A name for ``attribute`` (load, dump...) of a nested model's codec, compiled on the
        first call (it may be the model being compiled, or one that refers back to it)."""
        name = f"{attribute}_{len(self.names)}"

        def first_call(value: Any) -> Any:
            fn = getattr(self._codec_of(model), attribute)
            self.names[name] = fn
            return fn(value)

        self.names[name] = first_call
        return name


# --- load and check ------------------------------------------------------------------------------


def _load_source(codec: CompiledCodec, ns: _Namespace) -> list[str]:
    lines = [
        "def load(data):",
        "    if type(data) is not dict:",
        "        if isinstance(data, model):",
        "            return data",
        "        if not isinstance(data, Mapping):",
        "            raise not_an_object(data)",
        "    errors = None",
        "    filled = 0",
        "    out = {}",
    ]
    for name, info in codec.fields.items():
        lines += _indent(_field_load(name, info, ns))
    if codec.model.__tbone_extra__ == "forbid":  # type: ignore[attr-defined]  # a Model
        lines += [
            "    if errors or len(data) + filled != len(out):",
            "        errors = extra(errors, data, known, listed)",
        ]
    return [*lines, *_indent(_finish(codec, "return obj", built=False))]


def _check_source(codec: CompiledCodec, ns: _Namespace) -> list[str]:
    """``check(obj)``: the fields of an object built in Python, converted again in place."""
    lines = ["def check(obj):", "    out = obj.__dict__", "    errors = None"]
    for name, info in codec.fields.items():
        lines += [f"    v = out[{name!r}]", *_indent(_value(info.converter, repr(name), ns))]
    return [*lines, *_indent(_finish(codec, "return None", built=True))]


def _finish(codec: CompiledCodec, result: str, *, built: bool) -> list[str]:
    lines = ["if errors:", "    raise Invalid(errors)"]
    if not built:
        lines += ["obj = new(model)", "obj.__dict__ = out"]
    if codec.has_validators:
        lines.append("run_validators(obj)")
    return [*lines, result]


def _field_load(name: str, info: FieldInfo, ns: _Namespace) -> list[str]:
    key = repr(name)
    if info.factory is not None:
        absent = [f"out[{key}] = {ns.bind('factory', info.factory)}()", "filled += 1"]
    elif info.has_default:
        default = ns.bind("default", info.default)
        mutable = isinstance(info.default, list | dict | set)
        value = f"{ns.bind('copy', copy.copy)}({default})" if mutable else default
        absent = [f"out[{key}] = {value}", "filled += 1"]
    else:
        absent = [f"errors = missing(errors, {key})"]
    return [
        f"v = data.get({key}, MISSING)",
        "if v is MISSING:",
        *_indent(absent),
        "else:",
        *_indent(_value(info.converter, key, ns)),
    ]


def _value(conv: Converter, key: str, ns: _Namespace) -> list[str]:
    """Lines storing the loaded ``v`` in ``out[key]``, or adding its errors to ``errors``."""
    by_converter = _attempt(f"out[{key}] = {ns.bind('load', conv.load)}(v)", key)
    if conv.inline == "list" and conv.item is not None:
        return _list_value(conv.item, key, ns, by_converter)
    if conv.inline == "model" and conv.model is not None:
        load = ns.nested(conv.model, "load")
        by_model = _attempt(f"out[{key}] = {load}(v)", key)
        return ["if type(v) is dict:", *_indent(by_model), "else:", *_indent(by_converter)]
    fast = _fast_check(conv, "v", ns)
    if fast is None:
        return by_converter
    return [f"if {fast}:", f"    out[{key}] = v", "else:", *_indent(by_converter)]


def _list_value(item: Converter, key: str, ns: _Namespace, by_converter: list[str]) -> list[str]:
    """A list loaded item by item here; any other value (a tuple, a set...) by the converter."""
    load_item = ns.bind("load", item.load)
    return [
        "if type(v) is list:",
        "    items = []",
        "    try:",
        "        for x in v:",
        f"            items.append({_item_expression(item, load_item, ns)})",
        "    except Invalid as e:",
        f"        errors = failed(errors, item_errors(e, v, len(items), {load_item}), {key})",
        "    else:",
        f"        out[{key}] = items",
        "else:",
        *_indent(by_converter),
    ]


def _item_expression(item: Converter, load_item: str, ns: _Namespace) -> str:
    if item.inline == "model" and item.model is not None:
        return f"{ns.nested(item.model, 'load')}(x) if type(x) is dict else {load_item}(x)"
    fast = _fast_check(item, "x", ns)
    return f"{load_item}(x)" if fast is None else f"x if {fast} else {load_item}(x)"


def _attempt(statement: str, key: str) -> list[str]:
    return [
        "try:",
        f"    {statement}",
        "except Invalid as e:",
        f"    errors = failed(errors, e, {key})",
    ]


def _fast_check(conv: Converter, v: str, ns: _Namespace) -> str | None:
    """An expression true when the value named ``v`` is valid as it is, or None if there is none."""
    if not conv.exact:
        return None
    limits = _guard_terms(conv, v, ns)
    terms = []
    for t in conv.exact:
        if t is type(None):
            terms.append(f"{v} is None")
            continue
        checks = [f"type({v}) is {ns.bind(t.__name__, t)}", *limits]
        if t is float:
            checks.append(f"{v} - {v} == 0.0")  # false for NaN and the infinities
        terms.append(" and ".join(checks))
    return " or ".join(f"({term})" for term in terms)


def _guard_terms(conv: Converter, v: str, ns: _Namespace) -> list[str]:
    guard = conv.guard
    if guard is None:
        return []
    terms = []
    for attribute, template in _GUARD_TEMPLATES:
        bound = getattr(guard, attribute)
        if bound is not None:
            terms.append(template.format(v=v, bound=ns.bind(attribute, bound)))
    if guard.pattern is not None:
        search = ns.bind("search", re.compile(guard.pattern).search)
        terms.append(f"{search}({v}) is not None")
    if guard.choices is not None:
        terms.append(f"{v} in {ns.bind('choices', frozenset(guard.choices))}")
    return terms


_GUARD_TEMPLATES = [
    ("min_length", "len({v}) >= {bound}"),
    ("max_length", "len({v}) <= {bound}"),
    ("ge", "{v} >= {bound}"),
    ("gt", "{v} > {bound}"),
    ("le", "{v} <= {bound}"),
    ("lt", "{v} < {bound}"),
]


def _missing(errors: list[ErrorDetail] | None, name: str) -> list[ErrorDetail]:
    return [*(errors or []), {"loc": [name], "msg": "field required", "type": "missing"}]


def _failed(errors: list[ErrorDetail] | None, exc: Invalid, name: str) -> list[ErrorDetail]:
    return [*(errors or []), *prefixed(exc.errors, name)]


def _extra(
    errors: list[ErrorDetail] | None, data: Mapping[Any, Any], known: frozenset[str], listed: str
) -> list[ErrorDetail] | None:
    unknown: list[ErrorDetail] = [
        {"loc": [str(key)], "msg": f"unknown field (allowed: {listed})", "type": "extra_forbidden"}
        for key in data
        if key not in known
    ]
    return [*(errors or []), *unknown] if unknown else errors


def _not_an_object(data: Any) -> Invalid:
    return Invalid.one(f"expected an object, got {describe(data)}", "model_type")


# --- dump ----------------------------------------------------------------------------------------


def _dump_source(
    codec: CompiledCodec,
    ns: _Namespace,
    *,
    full: bool,
    computed: Mapping[str, Callable[[Any], Any]],
) -> list[str]:
    """``dump(obj)`` (what clients see) or ``dump_full(obj)`` (every stored field): one dict
    display, each value dumped by its converter, a nested model by its own generated dump."""
    function = "dump_full" if full else "dump"
    items = []
    for name, info in codec.fields.items():
        options = info.options
        if full or not (options.private or options.write_only):
            items.append(f"{name!r}: {_dump_expression(info.converter, repr(name), ns, full)}")
    for name, dumper in computed.items():
        items.append(f"{name!r}: {ns.bind('computed', dumper)}(obj)")
    body = "{" + ", ".join(items) + "}"
    return [f"def {function}(obj):", "    d = obj.__dict__", f"    return {body}"]


def _dump_expression(conv: Converter, key: str, ns: _Namespace, full: bool) -> str:
    value = f"d[{key}]"
    attribute = "dump_full" if full else "dump"
    if _plain_model(conv):
        return f"{ns.nested(conv.model, attribute)}({value})"
    item = conv.item
    if conv.inline == "list" and item is not None and _plain_model(item) and not conv.nullable:
        return f"[{ns.nested(item.model, attribute)}(x) for x in {value}]"
    dump = (conv.dump_full or conv.dump) if full else conv.dump
    return value if dump is None else f"{ns.bind(attribute, dump)}({value})"


def _plain_model(conv: Converter) -> TypeGuard[_ModelConverter]:
    """Whether values are always objects of ``conv.model`` (never None), dumped by its codec."""
    return conv.inline == "model" and conv.model is not None and not conv.nullable


class _ModelConverter(Converter):
    model: type  # narrowed: a converter for a nested model names it


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]
