"""Per-model code generation: the ``load``, ``check``, ``dump`` and ``dump_full`` of a model.

Each model class gets, on first use, four Python functions written for it and compiled with
``exec`` (as attrs writes ``__init__``): straight-line code, one block per field, in declaration
order, with no loop over the fields and no lookup of their metadata. ``codec.source`` holds the
generated text, to read when debugging (``print(tbone.data.model._codec(Book).source)``).

How ``load`` takes a field's value (into a local ``v<i>``):

* a value the field takes as it is (a ``str`` for ``str``, an ``int`` for ``int | None``...)
  passes an inline expression: the exact type, then the simple limits (lengths, numeric bounds,
  a pattern, a set of choices or ``Literal`` values), and is kept as it is;
* ``None`` for ``T | None`` is kept; any other value goes by the rules of ``T``;
* a dict for an embedded model whose fields all have such expressions (and which has no
  validator) is checked by one condition and the object built right here; a dict the condition
  refuses, or one for any other model, goes to that model's own generated ``load``;
* a list for ``list[T]`` is scanned when its items can be valid as they are, and copied; else
  loaded item by item in the loop itself, each item by the rules above;
* anything else calls the field's converter (``convert.py``), which converts it or raises
  :class:`Invalid` with the complete list of that value's errors.

The inline checks only decide when the converter may be skipped: a value failing one goes
through the converter (or the nested model's load), so every error message, type and location
comes from one place, and nothing but these side-effect-free checks is ever done twice. Errors
are collected for every field before ``Invalid`` is raised, each under its field name (and list
index). The object is built without ``__init__``: one dict display of the locals becomes its
``__dict__``. Unknown keys are counted, not searched for: the keys found plus the defaults
filled in must be every field, and only when they are not (or on errors) is the data scanned.

``dump`` is one dict display; an embedded model with no computed field is written out in it
as a dict display of its own (one level deep), any other value dumped by its converter.

The names the generated code uses (converters, bounds, nested loads) live in its namespace;
a nested model's functions are bound on their first call, so models may refer to each other.
"""

from __future__ import annotations

import builtins
import copy
import math
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

    @property
    def computed(self) -> Mapping[str, Any]: ...

    load: Callable[[Any], Any]
    check: Callable[[Any], None]
    dump: Callable[[Any], dict[str, Any]]
    dump_full: Callable[[Any], dict[str, Any]]
    source: str

    def run_validators(self, obj: Any) -> None: ...


CodecOf = Callable[[type], CompiledCodec]


def generate(
    codec: CompiledCodec,
    codec_of: CodecOf,
    ready: Callable[[type], CompiledCodec | None],
    computed: Mapping[str, Callable[[Any], Any]],
) -> None:
    """Write, compile and install the four functions of ``codec``.

    ``codec_of`` finds the codec of a nested model; ``ready`` the same when it can be had now
    (``None`` for a model whose compilation is under way: one referring back to ``codec``);
    ``computed`` maps computed field names to their dumpers."""
    ns = _Namespace(codec, codec_of, ready)
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

    def __init__(
        self,
        codec: CompiledCodec,
        codec_of: CodecOf,
        ready: Callable[[type], CompiledCodec | None],
    ) -> None:
        self._codec_of = codec_of
        self.ready = ready
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
        self._locals = 0

    def bind(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{len(self.names)}"
        self.names[name] = value
        return name

    def constant(self, prefix: str, value: Any) -> str:
        """A number written as a literal (its repr reads back exactly), anything else bound."""
        if type(value) is int or (type(value) is float and math.isfinite(value)):
            return repr(value)
        return self.bind(prefix, value)

    def type_name(self, t: type) -> str:
        """The name of a type in the generated code: its own for builtins (str, int...)."""
        name: str = t.__name__
        return name if vars(builtins).get(name) is t else self.bind(name, t)

    def local(self) -> str:
        """A fresh name for a local variable of the generated code."""
        self._locals += 1
        return f"_{self._locals}"

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
    """``load(data)``: each field's value loaded into a local ``v<i>``, the object built from
    them in one dict display once every field is valid."""
    lines = [
        "def load(data):",
        "    if type(data) is not dict:",
        "        if isinstance(data, model):",
        "            return data",
        "        if not isinstance(data, Mapping):",
        "            raise not_an_object(data)",
        "    errors = None",
        "    filled = 0",
    ]
    for i, (name, info) in enumerate(codec.fields.items()):
        lines += [f"    # {name}", *_indent(_field_load(name, info, f"v{i}", ns))]
    if codec.model.__tbone_extra__ == "forbid":  # type: ignore[attr-defined]  # a Model
        lines += [
            f"    if errors or len(data) + filled != {len(codec.fields)}:",
            "        errors = extra(errors, data, known, listed)",
        ]
    values = ", ".join(f"{name!r}: v{i}" for i, name in enumerate(codec.fields))
    built = ["obj = new(model)", f"obj.__dict__ = {{{values}}}"]
    return [*lines, *_indent(_finish(codec, built, "return obj"))]


def _check_source(codec: CompiledCodec, ns: _Namespace) -> list[str]:
    """``check(obj)``: the fields of an object built in Python, converted again in place."""
    lines = ["def check(obj):", "    out = obj.__dict__", "    errors = None"]
    for name, info in codec.fields.items():
        key = repr(name)
        stored = _value(info.converter, "v", key, ns, target=f"out[{key}]")
        lines += [f"    v = out[{key}]", *_indent(stored)]
    return [*lines, *_indent(_finish(codec, [], "return None"))]


def _finish(codec: CompiledCodec, built: list[str], result: str) -> list[str]:
    lines = ["if errors:", "    raise Invalid(errors)", *built]
    if codec.has_validators:
        lines.append("run_validators(obj)")
    return [*lines, result]


def _field_load(name: str, info: FieldInfo, v: str, ns: _Namespace) -> list[str]:
    key = repr(name)
    if info.factory is not None:
        absent = [f"{v} = {ns.bind('factory', info.factory)}()", "filled += 1"]
    elif info.has_default:
        default = ns.bind("default", info.default)
        mutable = isinstance(info.default, list | dict | set)
        value = f"{ns.bind('copy', copy.copy)}({default})" if mutable else default
        absent = [f"{v} = {value}", "filled += 1"]
    else:
        absent = [f"errors = missing(errors, {key})"]
    return [
        f"{v} = data.get({key}, MISSING)",
        f"if {v} is MISSING:",
        *_indent(absent),
        "else:",
        *_indent(_value(info.converter, v, key, ns)),
    ]


def _value(
    conv: Converter, v: str, key: str, ns: _Namespace, target: str | None = None
) -> list[str]:
    """Lines putting the loaded value of ``v`` in ``target`` (``v`` itself by default), or
    adding its errors, located under ``key``, to ``errors``. ``target`` holds ``v`` already:
    a value valid as it is needs no store."""
    target = target or v
    by_converter = _attempt(f"{target} = {ns.bind('load', conv.load)}({v})", key)
    if conv.inline == "list" and conv.item is not None:
        return _list_value(conv.item, v, key, target, ns, by_converter)
    if conv.inline == "model" and conv.model is not None:
        return _model_value(conv.model, v, key, target, ns, by_converter)
    fast = _fast_check(conv, v, ns)
    if fast is None and conv.non_null is not None:
        # T | None: None as it is, any other value by the rules of T
        non_null = _value(conv.non_null, v, key, ns, target)
        return [f"if {v} is not None:", *_indent(non_null)]
    if fast is None:
        return by_converter
    return [f"if not ({fast}):", *_indent(by_converter)]


def _model_value(
    model: type, v: str, key: str, target: str, ns: _Namespace, by_converter: list[str]
) -> list[str]:
    """A nested model: built right here when it can be, else by its own generated load."""
    by_model = _attempt(f"{target} = {ns.nested(model, 'load')}({v})", key)
    built = _built_in_place(model, v, ns)
    if built is None:
        return [f"if type({v}) is dict:", *_indent(by_model), "else:", *_indent(by_converter)]
    condition, build = built
    return [
        f"if {condition}:",
        *_indent(build(f"{target} = ")),
        f"elif type({v}) is dict:",
        *_indent(by_model),
        "else:",
        *_indent(by_converter),
    ]


def _list_value(
    item: Converter, v: str, key: str, target: str, ns: _Namespace, by_converter: list[str]
) -> list[str]:
    """A list loaded item by item here; any other value (a tuple, a set...) by the converter."""
    load_item = ns.bind("load", item.load)
    append = f"items.append({_item_expression(item, load_item, ns)})"
    built = _built_in_place(item.model, "x", ns) if item.inline == "model" else None
    if built is not None:
        condition, build = built
        append_lines = [
            f"if {condition}:",
            *_indent(build("items.append(", ")")),
            "else:",
            f"    {append}",
        ]
    else:
        append_lines = [append]
    by_item = [
        "items = []",
        "try:",
        f"    for x in {v}:",
        *_indent(_indent(append_lines)),
        "except Invalid as e:",
        f"    errors = failed(errors, item_errors(e, {v}, len(items), {load_item}), {key})",
        "else:",
        f"    {target} = items",
    ]
    scan = _fast_check(item, "s", ns) if item.inline is None else None
    if scan is not None:  # items valid as they are: a scan, then one copy of the list
        by_item = [
            f"for s in {v}:",
            f"    if not ({scan}):",
            *_indent(_indent(by_item)),
            "        break",
            "else:",
            f"    {target} = list({v})",
        ]
    return [f"if type({v}) is list:", *_indent(by_item), "else:", *_indent(by_converter)]


def _item_expression(item: Converter, load_item: str, ns: _Namespace) -> str:
    if item.inline == "model" and item.model is not None:
        return f"{ns.nested(item.model, 'load')}(x) if type(x) is dict else {load_item}(x)"
    fast = _fast_check(item, "x", ns)
    return f"{load_item}(x)" if fast is None else f"x if {fast} else {load_item}(x)"


Build = Callable[..., list[str]]


def _built_in_place(model: type | None, v: str, ns: _Namespace) -> tuple[str, Build] | None:
    """The nested model's load written out here, for a dict ``v`` holding every field valid as
    it is: ``(condition, build)``, ``build(before, after)`` giving the lines that make the
    object and put it in ``before ... after``. None when the model has a field with no inline
    check, or validators (anything but a plain check would run twice when the condition fails
    halfway and the model's own load starts again)."""
    codec = ns.ready(model) if model is not None else None
    if codec is None or codec.has_validators:
        return None
    terms = [f"type({v}) is dict"]
    if codec.model.__tbone_extra__ == "forbid":  # type: ignore[attr-defined]  # a Model
        terms.append(f"len({v}) == {len(codec.fields)}")  # every field, so no unknown key
    values = []
    for name, info in codec.fields.items():
        var = ns.local()
        fast = _fast_check(info.converter, var, ns, first=f"({var} := {v}.get({name!r}, MISSING))")
        if fast is None:
            return None
        terms.append(f"({fast})")
        values.append(f"{name!r}: {var}")
    cls = ns.bind("model", codec.model)

    def build(before: str, after: str = "") -> list[str]:
        return [f"o = new({cls})", "o.__dict__ = {" + ", ".join(values) + "}", f"{before}o{after}"]

    return " and ".join(terms), build


def _attempt(statement: str, key: str) -> list[str]:
    return [
        "try:",
        f"    {statement}",
        "except Invalid as e:",
        f"    errors = failed(errors, e, {key})",
    ]


def _fast_check(conv: Converter, v: str, ns: _Namespace, *, first: str | None = None) -> str | None:
    """An expression true when the value named ``v`` is valid as it is, or None if there is none.

    ``first`` replaces the first mention of ``v`` (an assignment expression naming it)."""
    if not conv.exact:
        return None
    limits = _guard_terms(conv, v, ns)
    terms = []
    subject = first or v
    for t in conv.exact:
        if t is type(None):
            terms.append(f"{subject} is None")
            subject = v
            continue
        if t is bool:  # the two singletons: no call to type()
            checks = [f"({subject} is True or {v} is False)", *limits]
        else:
            checks = [f"type({subject}) is {ns.type_name(t)}", *limits]
        subject = v
        if t is float:
            checks.append(f"{v} - {v} == 0.0")  # false for NaN and the infinities
        terms.append(" and ".join(checks))
    return " or ".join(f"({term})" for term in terms)


def _guard_terms(conv: Converter, v: str, ns: _Namespace) -> list[str]:
    guard = conv.guard
    if guard is None:
        return []
    terms = []
    for low, high, subject in _GUARD_CHAINS:
        chain = [subject.format(v=v)]  # one comparison chain: len() called once
        if getattr(guard, low) is not None:
            chain.insert(0, f"{ns.constant(low, getattr(guard, low))} {_OPERATORS[low]}")
        if getattr(guard, high) is not None:
            chain.append(f"{_OPERATORS[high]} {ns.constant(high, getattr(guard, high))}")
        if len(chain) > 1:
            terms.append(" ".join(chain))
    if guard.pattern is not None:
        search = ns.bind("search", re.compile(guard.pattern).search)
        terms.append(f"{search}({v}) is not None")
    if guard.choices is not None:
        terms.append(f"{v} in {ns.bind('choices', frozenset(guard.choices))}")
    return terms


#: the limits checked as ``low <= subject <= high``, and their comparison operators
_GUARD_CHAINS = [("min_length", "max_length", "len({v})"), ("ge", "le", "{v}"), ("gt", "lt", "{v}")]
_OPERATORS = {"min_length": "<=", "max_length": "<=", "ge": "<=", "le": "<=", "gt": "<", "lt": "<"}


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
    display, each value dumped by its converter, a nested model by its own generated dump or,
    when it has no computed field, by a dict display of its own written out in place."""
    function = "dump_full" if full else "dump"
    items = _dump_items(codec, "d", "d", ns, full=full, nested=True)
    items += [f"{name!r}: {ns.bind('computed', dumper)}(obj)" for name, dumper in computed.items()]
    body = "{" + ", ".join(items) + "}"
    return [f"def {function}(obj):", "    d = obj.__dict__", f"    return {body}"]


def _dump_items(
    codec: CompiledCodec, first: str, d: str, ns: _Namespace, *, full: bool, nested: bool
) -> list[str]:
    """``key: value`` of each field shown, reading the object's dict as ``d``: ``first`` is
    its first mention (for a nested model, the assignment expression that names it)."""
    items = []
    for name, info in codec.fields.items():
        options = info.options
        if full or not (options.private or options.write_only):
            value = _dump_expression(info.converter, f"{first}[{name!r}]", ns, full, nested)
            items.append(f"{name!r}: {value}")
            first = d
    return items


def _dump_expression(conv: Converter, value: str, ns: _Namespace, full: bool, nested: bool) -> str:
    attribute = "dump_full" if full else "dump"
    if _plain_model(conv):
        return _nested_dump(conv.model, value, ns, full, nested)
    item = conv.item
    if conv.inline == "list" and item is not None and _plain_model(item) and not conv.nullable:
        return f"[{_nested_dump(item.model, 'x', ns, full, nested)} for x in {value}]"
    dump = (conv.dump_full or conv.dump) if full else conv.dump
    if dump is not None and conv.non_null is not None:  # T | None: None as it is, else as T
        named = ns.local()
        inner = _dump_expression(conv.non_null, named, ns, full, nested)
        return f"(None if ({named} := {value}) is None else {inner})"
    return value if dump is None else f"{ns.bind(attribute, dump)}({value})"


def _nested_dump(model: type, value: str, ns: _Namespace, full: bool, nested: bool) -> str:
    """A nested model's dump: written out (one level deep) when its codec is ready and it has
    no computed field, else a call to its generated dump."""
    codec = ns.ready(model) if nested else None
    if codec is None or (codec.computed and not full):
        return f"{ns.nested(model, 'dump_full' if full else 'dump')}({value})"
    d = ns.local()
    items = _dump_items(codec, f"({d} := {value}.__dict__)", d, ns, full=full, nested=False)
    return "{" + ", ".join(items) + "}"


def _plain_model(conv: Converter) -> TypeGuard[_ModelConverter]:
    """Whether values are always objects of ``conv.model`` (never None), dumped by its codec."""
    return conv.inline == "model" and conv.model is not None and not conv.nullable


class _ModelConverter(Converter):
    model: type  # narrowed: a converter for a nested model names it


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]
