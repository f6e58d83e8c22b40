"""Hostile input: every case is a ValidationError listing the problems, never another exception."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tbone import Model, ValidationError, field

from .models import Book, Everything, Node


def test_ten_thousand_deep_nesting_is_a_validation_error() -> None:
    data: dict[str, Any] = {"label": "leaf"}
    for _ in range(10_000):
        data = {"label": "x", "child": data}
    with pytest.raises(ValidationError) as info:
        Node.from_data(data)
    assert info.value.errors[0]["type"] == "too_deep"


def test_deep_nesting_inside_a_list_is_a_validation_error() -> None:
    data: Any = {"label": "leaf"}
    for _ in range(10_000):
        data = {"children": [data]}
    with pytest.raises(ValidationError):
        Node.from_data(data)


def test_megabyte_strings_are_checked_without_echoing_them() -> None:
    class Short(Model):
        text: str = field(max_length=1000)
        free: str = ""

    huge = "x" * 1_000_000
    with pytest.raises(ValidationError) as info:
        Short.from_data({"text": huge})
    assert info.value.errors[0]["type"] == "max_length"
    assert len(str(info.value)) < 500
    assert Short.from_data({"text": "ok", "free": huge}).free == huge


def test_nan_and_infinity_are_refused_everywhere() -> None:
    with pytest.raises(ValidationError) as info:
        Everything.from_data(
            {"f": float("nan"), "scores": {"a": float("inf")}, "seq": [float("-inf")]}
        )
    assert [e["loc"] for e in info.value.errors] == [["f"], ["seq", 0], ["scores", "a"]]


def test_naive_datetimes_are_refused_where_aware_ones_are_required() -> None:
    with pytest.raises(ValidationError) as info:
        Book.from_data({"title": "t", "author": "a", "added": "2024-01-01T00:00:00"})
    assert info.value.errors[0]["type"] == "timezone_aware"
    with pytest.raises(ValidationError):
        Book(title="t", author="a", added=dt.datetime(2024, 1, 1))


def test_wrong_types_missing_and_unknown_fields_together() -> None:
    with pytest.raises(ValidationError) as info:
        Book.from_data({"title": 5, "year": "1965", "tags": "scifi", "$where": "1", "extra": {}})
    types = sorted(e["type"] for e in info.value.errors)
    assert types == [
        "extra_forbidden",
        "extra_forbidden",
        "int_type",
        "list_type",
        "missing",
        "string_type",
    ]


def test_operator_shaped_values_are_plain_values_or_type_errors() -> None:
    with pytest.raises(ValidationError) as info:
        Book.from_data({"title": {"$ne": 1}, "author": "a"})
    assert info.value.errors[0]["type"] == "string_type"
    book = Everything.from_data({"blob": {"$set": {"x": 1}}})
    assert book.blob == {"$set": {"x": 1}}


def test_non_string_keys_are_reported() -> None:
    with pytest.raises(ValidationError) as info:
        Everything.from_data({"scores": {1: 1.0}})
    assert info.value.errors[0]["type"] == "key_type"
    with pytest.raises(ValidationError):
        Book.from_data({1: "x", "title": "t", "author": "a"})  # type: ignore[dict-item]  # wrong on purpose


def test_unhashable_values_for_enums_and_choices_are_errors() -> None:
    with pytest.raises(ValidationError):
        Everything.from_data({"color": ["red"]})
    with pytest.raises(ValidationError):
        Everything.from_data({"mode": {"a": 1}})


def test_validation_error_is_picklable_and_readable() -> None:
    import pickle

    with pytest.raises(ValidationError) as info:
        Book.from_data({})
    copy = pickle.loads(pickle.dumps(info.value))
    assert copy.errors == info.value.errors
    assert "title: field required" in str(info.value)
