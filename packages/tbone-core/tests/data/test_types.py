"""Every field type: what is accepted, what is converted, what is refused, and the output."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from tbone import ValidationError

from .models import Address, Color, Everything, Node, Priority


def load(**data: Any) -> Everything:
    return Everything.from_data(data)


def error_of(**data: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as info:
        Everything.from_data(data)
    assert len(info.value.errors) == 1, info.value.errors
    return dict(info.value.errors[0])


@pytest.mark.parametrize(
    ("data", "attr", "expected", "wire"),
    [
        ({"s": "héllo ☃"}, "s", "héllo ☃", "héllo ☃"),
        ({"i": 42}, "i", 42, 42),
        ({"i": 3.0}, "i", 3, 3),
        ({"f": 1}, "f", 1.0, 1.0),
        ({"f": -2.5}, "f", -2.5, -2.5),
        ({"b": True}, "b", True, True),
        ({"d": "12.50"}, "d", Decimal("12.50"), "12.50"),
        ({"d": 3}, "d", Decimal(3), "3"),
        ({"d": 0.1}, "d", Decimal("0.1"), "0.1"),
        (
            {"when": "2024-05-01T12:00:00Z"},
            "when",
            dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC),
            "2024-05-01T12:00:00+00:00",
        ),
        (
            {"when": "2024-05-01T12:00:00+02:00"},
            "when",
            dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC),
            "2024-05-01T12:00:00+02:00",
        ),
        ({"day": "2024-05-01"}, "day", dt.date(2024, 5, 1), "2024-05-01"),
        ({"at": "12:30:00"}, "at", dt.time(12, 30), "12:30:00"),
        (
            {"u": "12345678-1234-5678-1234-567812345678"},
            "u",
            uuid.UUID("12345678-1234-5678-1234-567812345678"),
            "12345678-1234-5678-1234-567812345678",
        ),
        ({"color": "red"}, "color", Color.RED, "red"),
        ({"prio": 2}, "prio", Priority.HIGH, 2),
        ({"mode": 3}, "mode", 3, 3),
        ({"mode": "a"}, "mode", "a", "a"),
        ({"ints": [1, 0, -1]}, "ints", [1, 0, -1], [1, 0, -1]),
        ({"names": ["x"]}, "names", {"x"}, ["x"]),
        ({"frozen": [1, 1]}, "frozen", frozenset({1}), [1]),
        ({"seq": [1, 2.5]}, "seq", (1.0, 2.5), [1.0, 2.5]),
        ({"scores": {"a": 1}}, "scores", {"a": 1.0}, {"a": 1.0}),
        ({"anything": {"deep": [1, None]}}, "anything", {"deep": [1, None]}, {"deep": [1, None]}),
        ({"blob": {"k": [1]}}, "blob", {"k": [1]}, {"k": [1]}),
        ({"either": 5}, "either", 5, 5),
        ({"either": "five"}, "either", "five", "five"),
        ({"tag": "ab"}, "tag", "ab", "ab"),
        ({"tag_list": ["abc"]}, "tag_list", ["abc"], ["abc"]),
        ({"email": "a@example.com"}, "email", "a@example.com", "a@example.com"),
        (
            {"url": "https://example.com/x?y=1"},
            "url",
            "https://example.com/x?y=1",
            "https://example.com/x?y=1",
        ),
        ({"ip": "::1"}, "ip", "::1", "::1"),
        ({"ip": "10.0.0.1"}, "ip", "10.0.0.1", "10.0.0.1"),
        (
            {"address": {"street": "s", "city": "c"}},
            "address",
            Address(street="s", city="c"),
            {"street": "s", "city": "c"},
        ),
        (
            {"addresses": [{"street": "s", "city": "c"}]},
            "addresses",
            [Address(street="s", city="c")],
            [{"street": "s", "city": "c"}],
        ),
        (
            {"by_name": {"home": {"street": "s", "city": "c"}}},
            "by_name",
            {"home": Address(street="s", city="c")},
            {"home": {"street": "s", "city": "c"}},
        ),
    ],
)
def test_accepted_values_convert_and_dump(
    data: dict[str, Any], attr: str, expected: Any, wire: Any
) -> None:
    obj = Everything.from_data(data)
    assert getattr(obj, attr) == expected
    assert obj.to_data()[attr] == wire
    assert Everything.from_data(obj.to_data()) == obj


@pytest.mark.parametrize(
    ("data", "loc", "type_"),
    [
        ({"s": 1}, ["s"], "string_type"),
        ({"s": None}, ["s"], "string_type"),
        ({"i": "3"}, ["i"], "int_type"),
        ({"i": True}, ["i"], "int_type"),
        ({"i": 3.5}, ["i"], "int_type"),
        ({"f": "1.0"}, ["f"], "float_type"),
        ({"f": False}, ["f"], "float_type"),
        ({"f": float("nan")}, ["f"], "finite_number"),
        ({"f": float("inf")}, ["f"], "finite_number"),
        ({"f": float("-inf")}, ["f"], "finite_number"),
        ({"b": 1}, ["b"], "bool_type"),
        ({"b": "true"}, ["b"], "bool_type"),
        ({"d": "abc"}, ["d"], "decimal_parsing"),
        ({"d": "NaN"}, ["d"], "finite_number"),
        ({"d": "Infinity"}, ["d"], "finite_number"),
        ({"d": [1]}, ["d"], "decimal_type"),
        ({"when": "2024-05-01T12:00:00"}, ["when"], "timezone_aware"),
        ({"when": dt.datetime(2024, 5, 1)}, ["when"], "timezone_aware"),
        ({"when": "yesterday"}, ["when"], "datetime_parsing"),
        ({"when": 1700000000}, ["when"], "datetime_type"),
        ({"day": "2024-13-01"}, ["day"], "date_parsing"),
        ({"at": "25:00"}, ["at"], "time_parsing"),
        ({"u": "not-a-uuid"}, ["u"], "uuid_parsing"),
        ({"color": "blue"}, ["color"], "enum"),
        ({"prio": "2"}, ["prio"], "enum"),
        ({"prio": True}, ["prio"], "enum"),
        ({"mode": "3"}, ["mode"], "literal"),
        ({"mode": True}, ["mode"], "literal"),
        ({"ints": "123"}, ["ints"], "list_type"),
        ({"ints": [1, "2"]}, ["ints", 1], "int_type"),
        ({"names": [1]}, ["names", 0], "string_type"),
        ({"scores": []}, ["scores"], "dict_type"),
        ({"scores": {"a": "x"}}, ["scores", "a"], "float_type"),
        ({"either": 1.5}, ["either"], "union"),
        ({"tag": "a"}, ["tag"], "min_length"),
        ({"tag_list": ["ok", "toolong"]}, ["tag_list", 1], "max_length"),
        ({"email": "nope"}, ["email"], "email"),
        ({"email": "a@b"}, ["email"], "email"),
        ({"url": "ftp://x"}, ["url"], "uri"),
        ({"url": "example.com"}, ["url"], "uri"),
        ({"ip": "300.1.1.1"}, ["ip"], "ip-address"),
        ({"address": "street"}, ["address"], "model_type"),
        ({"address": {"street": "s"}}, ["address", "city"], "missing"),
        ({"address": {"street": "s", "city": ""}}, ["address", "city"], "min_length"),
        (
            {"addresses": [{"street": "s", "city": "c"}, {"city": "c"}]},
            ["addresses", 1, "street"],
            "missing",
        ),
        ({"by_name": {"x": {"street": 1, "city": "c"}}}, ["by_name", "x", "street"], "string_type"),
    ],
)
def test_refused_values_name_the_place_and_the_problem(
    data: dict[str, Any], loc: list[Any], type_: str
) -> None:
    err = error_of(**data)
    assert err["loc"] == loc
    assert err["type"] == type_
    assert err["msg"]


def test_all_errors_are_collected_not_only_the_first() -> None:
    with pytest.raises(ValidationError) as info:
        Everything.from_data({"s": 1, "i": "x", "ints": ["a", "b"], "address": {}, "nope": 1})
    locs = [e["loc"] for e in info.value.errors]
    assert locs == [
        ["s"],
        ["i"],
        ["ints", 0],
        ["ints", 1],
        ["address", "street"],
        ["address", "city"],
        ["nope"],
    ]


def test_native_python_values_are_accepted_too() -> None:
    when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    obj = Everything(
        when=when,
        d=Decimal("1.5"),
        color=Color.GREEN,
        names={"a"},
        address=Address(street="s", city="c"),
    )
    assert obj.when is when
    assert obj.to_data()["color"] == "green"


def test_recursive_models_round_trip() -> None:
    data = {
        "label": "root",
        "child": {"label": "c", "child": None, "children": []},
        "children": [{"label": "k", "child": None, "children": []}],
    }
    node = Node.from_data(data)
    assert node.child is not None
    assert node.child.label == "c"
    assert node.to_data(fields={"label", "child", "children"}) == data


def test_model_input_must_be_an_object() -> None:
    for bad in ([], "x", 1, None):
        with pytest.raises(ValidationError) as info:
            Everything.from_data(bad)  # type: ignore[arg-type]  # wrong on purpose
        assert info.value.errors[0]["type"] == "model_type"
