"""ODM round trip on a wide document: 40 fields plus the key, nested models and lists of them.

The same model two ways, TBone and pydantic v2 (the second ODM bench model of issue 11): five of
each of eight kinds of field (bounded strings, bounded ints, floats, bools, optional strings,
lists of strings, lists of a nested model, a nested model), so the cost per field dominates.
"""

from __future__ import annotations

from typing import Any

import pydantic

from tbone import Model, field

# --- TBone ---------------------------------------------------------------------------------------


class TPart(Model, embedded=True):
    sku: str = field(min_length=1, max_length=40)
    qty: int = field(ge=0)
    price: float = field(ge=0)


class TOwner(Model, embedded=True):
    name: str = field(min_length=1, max_length=100)
    email: str = field(pattern=r"^[^@\s]+@[^@\s]+$")


class TWide(Model):
    id: str = field(primary_key=True)
    name_0: str = field(min_length=1, max_length=80)
    owner_0: TOwner
    name_1: str = field(min_length=1, max_length=80)
    owner_1: TOwner
    name_2: str = field(min_length=1, max_length=80)
    owner_2: TOwner
    name_3: str = field(min_length=1, max_length=80)
    owner_3: TOwner
    name_4: str = field(min_length=1, max_length=80)
    owner_4: TOwner
    count_0: int = field(default=0, ge=0, le=1_000_000)
    score_0: float = field(default=0.0, ge=0)
    flag_0: bool = False
    note_0: str | None = None
    labels_0: list[str] = field(factory=list)
    parts_0: list[TPart] = field(factory=list)
    count_1: int = field(default=0, ge=0, le=1_000_000)
    score_1: float = field(default=0.0, ge=0)
    flag_1: bool = False
    note_1: str | None = None
    labels_1: list[str] = field(factory=list)
    parts_1: list[TPart] = field(factory=list)
    count_2: int = field(default=0, ge=0, le=1_000_000)
    score_2: float = field(default=0.0, ge=0)
    flag_2: bool = False
    note_2: str | None = None
    labels_2: list[str] = field(factory=list)
    parts_2: list[TPart] = field(factory=list)
    count_3: int = field(default=0, ge=0, le=1_000_000)
    score_3: float = field(default=0.0, ge=0)
    flag_3: bool = False
    note_3: str | None = None
    labels_3: list[str] = field(factory=list)
    parts_3: list[TPart] = field(factory=list)
    count_4: int = field(default=0, ge=0, le=1_000_000)
    score_4: float = field(default=0.0, ge=0)
    flag_4: bool = False
    note_4: str | None = None
    labels_4: list[str] = field(factory=list)
    parts_4: list[TPart] = field(factory=list)


def tbone_round_trip(data: dict[str, Any]) -> dict[str, Any]:
    return TWide.from_data(data).to_data()


# --- pydantic v2 -------------------------------------------------------------------------------


class PPart(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    sku: str = pydantic.Field(min_length=1, max_length=40)
    qty: int = pydantic.Field(ge=0)
    price: float = pydantic.Field(ge=0)


class POwner(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    name: str = pydantic.Field(min_length=1, max_length=100)
    email: str = pydantic.Field(pattern=r"^[^@\s]+@[^@\s]+$")


class PWide(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    id: str
    name_0: str = pydantic.Field(min_length=1, max_length=80)
    owner_0: POwner
    name_1: str = pydantic.Field(min_length=1, max_length=80)
    owner_1: POwner
    name_2: str = pydantic.Field(min_length=1, max_length=80)
    owner_2: POwner
    name_3: str = pydantic.Field(min_length=1, max_length=80)
    owner_3: POwner
    name_4: str = pydantic.Field(min_length=1, max_length=80)
    owner_4: POwner
    count_0: int = pydantic.Field(default=0, ge=0, le=1_000_000)
    score_0: float = pydantic.Field(default=0.0, ge=0)
    flag_0: bool = False
    note_0: str | None = None
    labels_0: list[str] = pydantic.Field(default_factory=list)
    parts_0: list[PPart] = pydantic.Field(default_factory=list)
    count_1: int = pydantic.Field(default=0, ge=0, le=1_000_000)
    score_1: float = pydantic.Field(default=0.0, ge=0)
    flag_1: bool = False
    note_1: str | None = None
    labels_1: list[str] = pydantic.Field(default_factory=list)
    parts_1: list[PPart] = pydantic.Field(default_factory=list)
    count_2: int = pydantic.Field(default=0, ge=0, le=1_000_000)
    score_2: float = pydantic.Field(default=0.0, ge=0)
    flag_2: bool = False
    note_2: str | None = None
    labels_2: list[str] = pydantic.Field(default_factory=list)
    parts_2: list[PPart] = pydantic.Field(default_factory=list)
    count_3: int = pydantic.Field(default=0, ge=0, le=1_000_000)
    score_3: float = pydantic.Field(default=0.0, ge=0)
    flag_3: bool = False
    note_3: str | None = None
    labels_3: list[str] = pydantic.Field(default_factory=list)
    parts_3: list[PPart] = pydantic.Field(default_factory=list)
    count_4: int = pydantic.Field(default=0, ge=0, le=1_000_000)
    score_4: float = pydantic.Field(default=0.0, ge=0)
    flag_4: bool = False
    note_4: str | None = None
    labels_4: list[str] = pydantic.Field(default_factory=list)
    parts_4: list[PPart] = pydantic.Field(default_factory=list)


def pydantic_round_trip(data: dict[str, Any]) -> dict[str, Any]:
    return PWide.model_validate(data).model_dump(mode="json")


CASES = {"tbone": tbone_round_trip, "pydantic v2": pydantic_round_trip}


def check_equivalent() -> None:
    """Both must produce the same output, or the comparison means nothing."""
    tbone, reference = tbone_round_trip(PAYLOAD), pydantic_round_trip(PAYLOAD)
    if tbone != reference:
        raise AssertionError(f"tbone output differs from pydantic's:\n{tbone}\n{reference}")


PAYLOAD: dict[str, Any] = {
    "id": "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
    "name_0": "value 0",
    "owner_0": {"name": "Owner 0", "email": "o0@example.com"},
    "name_1": "value 1",
    "owner_1": {"name": "Owner 1", "email": "o1@example.com"},
    "name_2": "value 2",
    "owner_2": {"name": "Owner 2", "email": "o2@example.com"},
    "name_3": "value 3",
    "owner_3": {"name": "Owner 3", "email": "o3@example.com"},
    "name_4": "value 4",
    "owner_4": {"name": "Owner 4", "email": "o4@example.com"},
    "count_0": 0,
    "score_0": 0.25,
    "flag_0": False,
    "note_0": None,
    "labels_0": ["a0", "b0", "c0"],
    "parts_0": [{"sku": "p0-1", "qty": 2, "price": 3.5}, {"sku": "p0-2", "qty": 1, "price": 10.0}],
    "count_1": 37,
    "score_1": 1.25,
    "flag_1": True,
    "note_1": "note 1",
    "labels_1": ["a1", "b1", "c1"],
    "parts_1": [{"sku": "p1-1", "qty": 2, "price": 3.5}, {"sku": "p1-2", "qty": 1, "price": 10.0}],
    "count_2": 74,
    "score_2": 2.25,
    "flag_2": False,
    "note_2": None,
    "labels_2": ["a2", "b2", "c2"],
    "parts_2": [{"sku": "p2-1", "qty": 2, "price": 3.5}, {"sku": "p2-2", "qty": 1, "price": 10.0}],
    "count_3": 111,
    "score_3": 3.25,
    "flag_3": True,
    "note_3": "note 3",
    "labels_3": ["a3", "b3", "c3"],
    "parts_3": [{"sku": "p3-1", "qty": 2, "price": 3.5}, {"sku": "p3-2", "qty": 1, "price": 10.0}],
    "count_4": 148,
    "score_4": 4.25,
    "flag_4": False,
    "note_4": None,
    "labels_4": ["a4", "b4", "c4"],
    "parts_4": [{"sku": "p4-1", "qty": 2, "price": 3.5}, {"sku": "p4-2", "qty": 1, "price": 10.0}],
}
