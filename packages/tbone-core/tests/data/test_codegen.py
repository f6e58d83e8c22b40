"""The generated codecs (tbone.data.codegen) against the converters they stand in for.

The generated ``load`` skips a field's converter when an inline check finds the value valid as
it is, builds small embedded models in the parent's code, and loads lists item by item. A
reference loader here does none of that: every field through its converter, every nested model
and list item through the same reference. Both must give the same object or the same errors.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tbone import Model, ValidationError, computed, field, fields_of, model_validator
from tbone.data._invalid import Invalid, prefixed
from tbone.data.convert import Converter
from tbone.data.model import _codec, computed_of


class Part(Model, embedded=True):
    sku: str = field(min_length=1, max_length=4)
    qty: int = field(ge=0, le=9)
    price: float = field(ge=0)


class Owner(Model, embedded=True):
    name: str = field(min_length=1)
    email: str = field(pattern=r"^[^@\s]+@[^@\s]+$")
    kind: Literal["a", "b"] = "a"
    secret: str = field(default="s", private=True)
    hidden: int = field(default=0, write_only=True)


class Note(Model, embedded=True, extra="ignore"):
    text: str | None
    level: Literal[1, 2, 3] = 1

    @computed
    def size(self) -> int:
        return len(self.text or "")


class Checked(Model, embedded=True):
    low: int
    high: int

    @model_validator
    def ordered(self) -> None:
        if self.low > self.high:
            raise ValueError("low must not exceed high")


class Stamp(Model, embedded=True):
    at: dt.datetime

    @computed
    def year(self) -> int:
        return self.at.year


class Doc(Model):
    id: str = field(primary_key=True)
    title: str = field(min_length=1, max_length=5)
    code: str | None = field(default=None, pattern=r"^\d{3}$")
    size: int | None = field(default=None, ge=0, le=100)
    ratio: float = field(default=0.0, gt=-1, lt=1)
    weight: float = 0.0
    flag: bool = False
    color: str = field(default="red", choices=["red", "blue"])
    level: Literal[1, 2] = 1
    tags: list[str] = field(factory=list)
    counts: list[int] = field(factory=list)
    short: list[str] = field(factory=list, max_length=2)
    owner: Owner | None = None
    parts: list[Part] = field(factory=list)
    notes: list[Note | None] = field(factory=list)
    checked: list[Checked] = field(factory=list)
    stamp: Stamp | None = None
    when: dt.datetime | None = None
    extra: dict[str, int] = field(factory=dict)
    anything: Any = None


def _reference(model: type[Model], data: Any) -> Model:
    """What the generated load must do, written the slow way."""
    codec = _codec(model)
    if type(data) is not dict:
        return _codec(model).load(data)
    errors: list[Any] = []
    out: dict[str, Any] = {}
    for name, info in fields_of(model).items():
        if name not in data:
            if info.factory is not None:
                out[name] = info.factory()
            elif info.has_default:
                out[name] = info.default
            else:
                errors.append({"loc": [name], "msg": "field required", "type": "missing"})
            continue
        try:
            out[name] = _reference_value(info.converter, data[name])
        except Invalid as exc:
            errors += prefixed(exc.errors, name)
    if model.__tbone_extra__ == "forbid":
        allowed = ", ".join(sorted(n for n, f in fields_of(model).items() if not f.options.private))
        msg = f"unknown field (allowed: {allowed})"
        errors += [
            {"loc": [str(k)], "msg": msg, "type": "extra_forbidden"}
            for k in data
            if k not in fields_of(model)
        ]
    if errors:
        raise Invalid(errors)
    obj = object.__new__(model)
    obj.__dict__ = out
    codec.run_validators(obj)
    return obj


def _reference_value(conv: Converter, v: Any) -> Any:
    if conv.inline == "model" and conv.model is not None and type(v) is dict:
        return _reference(conv.model, v)
    if conv.inline == "list" and conv.item is not None and type(v) is list:
        items, errors = [], []
        for i, x in enumerate(v):
            try:
                items.append(_reference_value(conv.item, x))
            except Invalid as exc:
                errors += prefixed(exc.errors, i)
        if errors:
            raise Invalid(errors)
        return items
    return conv.load(v)


def _reference_dump(obj: Any, *, full: bool) -> Any:
    """What the generated dumps must give: each field through its converter's dump."""
    if not isinstance(obj, Model):
        return obj
    out = {}
    for name, info in fields_of(type(obj)).items():
        if not full and (info.options.private or info.options.write_only):
            continue
        conv = info.converter
        dump = (conv.dump_full or conv.dump) if full else conv.dump
        value = obj.__dict__[name]
        out[name] = value if dump is None else dump(value)
    if not full:
        out |= {name: getattr(obj, name) for name in computed_of(type(obj))}
    return out


def _outcome(load: Any, data: Any) -> tuple[str, Any]:
    try:
        obj = load(data)
    except (Invalid, ValidationError) as exc:
        return "invalid", exc.errors
    for full in (False, True):
        assert _typed(obj.to_data(full=full)) == _typed(_reference_dump(obj, full=full))
    return "ok", _typed(obj.to_data(full=True))


def _typed(value: Any) -> Any:
    """The value with each leaf's type beside it (1 == 1.0 == True, but they are not alike)."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return ("nan", float)
    return (value, type(value))


_NUMBERS = [None, True, False, 0, 1, 3, -1, 10, 101, 2**70, 1.0, 0.5, -0.0, 1.5, math.nan, math.inf]
_TEXTS = ["", "a", "abcdef", "123", "12a", "x@y", "x y@z", "red", "blue", "\ud800", "2024-05-01"]


class _NoOffset(dt.tzinfo):
    """A zone that does not know its offset: a datetime in it is not timezone-aware."""

    def utcoffset(self, _: dt.datetime | None) -> None:
        return None


_TIMES = [
    dt.datetime(2024, 5, 1, tzinfo=_NoOffset()),
    "2024-05-01T12:00:00+00:00",
    "2024-05-01T12:00",
    dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
]
_leaves = st.sampled_from([*_NUMBERS, *_TEXTS, *_TIMES, (), ("a",), {"a"}])
_keys = st.sampled_from(
    ["sku", "qty", "price", "name", "email", "kind", "text", "level", "low", "high", "at", "junk"]
)
_values = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=4),
    max_leaves=12,
)


def _near(base: dict[str, Any], **inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid data (``base``, with ``inner`` strategies for some fields) with at most one key
    dropped and a few values replaced by odd ones: each check gets to see its edge cases."""
    values = st.fixed_dictionaries({k: inner.get(k, st.just(v)) for k, v in base.items()})
    keys = st.sampled_from([*base, "junk"])
    return st.builds(
        lambda valid, drop, change: {k: v for k, v in valid.items() if k not in drop} | change,
        values,
        st.sets(st.sampled_from(list(base)), max_size=1),
        st.dictionaries(keys, _leaves, max_size=2),
    )


_parts = _near({"sku": "ab", "qty": 2, "price": 1.5})
_owners = _near({"name": "Ann", "email": "a@b", "kind": "b"})
_notes = _near({"text": "t", "level": 2})
_checked = _near({"low": 1, "high": 2})
_docs = _near(
    {
        "id": "d1",
        "title": "Dune",
        "code": "123",
        "size": 3,
        "ratio": 0.5,
        "weight": 2.5,
        "flag": True,
        "color": "blue",
        "level": 2,
        "tags": ["a"],
        "counts": [1, 2],
        "short": ["a"],
        "owner": None,
        "parts": [],
        "notes": [],
        "checked": [],
        "stamp": {"at": "2024-05-01T12:00:00+00:00"},
        "when": "2024-05-01T12:00:00+02:00",
        "extra": {"a": 1},
        "anything": [1],
    },
    tags=st.lists(_leaves, max_size=3),
    counts=st.lists(_leaves, max_size=3),
    owner=_owners | _values,
    parts=st.lists(_parts | _values, max_size=3),
    notes=st.lists(_notes | _values, max_size=3),
    checked=st.lists(_checked | _values, max_size=2),
    stamp=_near({"at": "2024-05-01T12:00:00+00:00"}),
    extra=st.dictionaries(_keys, _leaves, max_size=2),
)


@settings(max_examples=600, deadline=None)
@given(data=_docs)
def test_generated_load_matches_the_converters(data: dict[str, Any]) -> None:
    assert _outcome(Doc.from_data, data) == _outcome(lambda d: _reference(Doc, d), data)


def test_errors_of_every_list_item_are_reported_with_their_index() -> None:
    with pytest.raises(ValidationError) as info:
        Doc.from_data(
            {
                "id": "d",
                "title": "t",
                "parts": [
                    {"sku": "", "qty": 1, "price": 1.0},
                    {"sku": "a", "qty": 1, "price": 2.0},
                    {"sku": "a", "qty": True, "price": -1.0},
                ],
            }
        )
    assert [(e["loc"], e["type"]) for e in info.value.errors] == [
        (["parts", 0, "sku"], "min_length"),
        (["parts", 2, "qty"], "int_type"),
        (["parts", 2, "price"], "ge"),
    ]


def test_a_validator_of_an_embedded_model_runs_once_per_object() -> None:
    calls: list[int] = []

    class Counted(Model, embedded=True):
        n: int

        @model_validator
        def count(self) -> None:
            calls.append(self.n)

    class Holder(Model):
        items: list[Counted]
        title: str

    with pytest.raises(ValidationError):
        Holder.from_data({"items": [{"n": 1}, {"n": 2}, {"n": "x"}, {"n": 4}], "title": 5})
    assert calls == [1, 2, 4]


def test_models_that_hold_themselves_compile_and_load() -> None:
    tree = Tree.from_data({"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]})
    assert tree.children[0].children[0].name == "c"
    assert tree.to_data()["children"][0]["children"][0] == {"name": "c", "children": []}
    with pytest.raises(ValidationError) as info:
        Tree.from_data({"name": "a", "children": [{"name": "b", "children": [{"name": 1}]}]})
    assert info.value.errors[0]["loc"] == ["children", 0, "children", 0, "name"]


class Tree(Model, embedded=True):
    name: str
    children: list[Tree] = field(factory=list)


def test_the_generated_source_can_be_read() -> None:
    source = _codec(Doc).source
    for function in ("def load(data):", "def check(obj):", "def dump(obj):", "def dump_full(obj):"):
        assert function in source
    assert "# parts" in source


def test_dumps_match_the_converters() -> None:
    doc = Doc.from_data(
        {
            "id": "d",
            "title": "t",
            "owner": {"name": "Ann", "email": "a@b", "secret": "x", "hidden": 3},
            "notes": [{"text": "abc", "level": 3}, None, {"text": None, "junk": 1}],
            "parts": [{"sku": "a", "qty": 1, "price": 2.0}],
            "checked": [{"low": 1, "high": 1}],
            "stamp": {"at": "2024-05-01T12:00:00+00:00"},
            "when": "2024-05-01T12:00:00+02:00",
        }
    )
    for full in (False, True):
        assert _typed(doc.to_data(full=full)) == _typed(_reference_dump(doc, full=full))
    assert doc.to_data()["owner"] == {"name": "Ann", "email": "a@b", "kind": "a"}
    assert doc.to_data()["notes"][0] == {"text": "abc", "level": 3, "size": 3}
    assert doc.to_data()["stamp"] == {"at": "2024-05-01T12:00:00+00:00", "year": 2024}


@settings(max_examples=300, deadline=None)
@given(data=_docs)
def test_objects_built_in_python_are_checked_as_loaded_ones(data: dict[str, Any]) -> None:
    """``Doc(**values)`` runs the generated ``check``: it must agree with ``load``."""
    names = set(fields_of(Doc))
    if not names.issuperset(data) or not {"id", "title"} <= data.keys():
        return  # not a valid call of __init__ (unknown or missing keyword arguments)
    assert _outcome(lambda d: Doc(**d), data) == _outcome(Doc.from_data, data)
