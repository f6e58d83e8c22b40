"""Plugins teach the ODM new field types with register_type (as tbone_mongo does for ObjectId)."""

from __future__ import annotations

import pytest

from tbone import Model, ValidationError, register_type


class Point:
    """A type the ODM does not know until it is registered."""

    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

    __hash__ = None  # type: ignore[assignment]  # mutable value object


def load_point(value: object) -> Point:
    if isinstance(value, Point):
        return value
    if isinstance(value, str) and value.count(",") == 1:
        x, y = value.split(",")
        return Point(int(x), int(y))
    raise ValueError("expected a point written as 'x,y'")


register_type(
    Point,
    load=load_point,
    dump=lambda p: f"{p.x},{p.y}",
    schema={"type": "string", "pattern": r"^-?\d+,-?\d+$"},
)


class Place(Model):
    at: Point
    route: list[Point] = []


def test_registered_type_loads_dumps_and_has_a_schema() -> None:
    place = Place.from_data({"at": "1,2", "route": ["0,0", "3,4"]})
    assert place.at == Point(1, 2)
    assert place.to_data()["route"] == ["0,0", "3,4"]
    assert Place.json_schema()["properties"]["at"] == {
        "type": "string",
        "pattern": r"^-?\d+,-?\d+$",
    }


def test_registered_type_errors_become_validation_errors() -> None:
    with pytest.raises(ValidationError) as info:
        Place.from_data({"at": "nowhere", "route": ["1,1", 5]})
    assert [(e["loc"], e["msg"]) for e in info.value.errors] == [
        (["at"], "expected a point written as 'x,y'"),
        (["route", 1], "expected a point written as 'x,y'"),
    ]


def test_mutable_defaults_are_not_shared() -> None:
    a = Place.from_data({"at": "1,1"})
    b = Place.from_data({"at": "1,1"})
    a.route.append(Point(0, 0))
    assert b.route == []
