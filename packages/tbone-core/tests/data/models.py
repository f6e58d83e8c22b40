"""Models shared by the ODM tests (module level, so string annotations resolve)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from tbone import Constraints, Model, computed, field, model_validator
from tbone.types import URL, Email, IPAddress


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Address(Model, embedded=True):
    street: str
    city: str = field(min_length=1)


class Author(Model):
    name: str = field(min_length=1, max_length=100)
    address: Address | None = None


class Book(Model):
    title: str = field(min_length=1, max_length=200)
    author: str
    year: int | None = field(default=None, ge=0, le=3000)
    tags: list[str] = field(factory=list)
    in_print: bool = True
    isbn: str | None = field(default=None, pattern=r"^\d{13}$", unique=True)
    added: dt.datetime = field(factory=now_utc, read_only=True)
    cost: float = field(default=0.0, private=True)
    secret: str = field(default="", write_only=True)


class Everything(Model):
    """One field of every supported type."""

    s: str = ""
    i: int = 0
    f: float = 0.0
    b: bool = False
    d: Decimal = Decimal("0")
    when: dt.datetime | None = None
    day: dt.date | None = None
    at: dt.time | None = None
    u: uuid.UUID | None = None
    color: Color | None = None
    prio: Priority | None = None
    mode: Literal["a", "b", 3] | None = None
    ints: list[int] = field(factory=list)
    names: set[str] = field(factory=set)
    frozen: frozenset[int] = field(factory=frozenset)
    seq: tuple[float, ...] = ()
    scores: dict[str, float] = field(factory=dict)
    anything: Any = None
    blob: dict[str, Any] = field(factory=dict)
    either: int | str | None = None
    tag: Annotated[str, Constraints(min_length=2)] = "ok"
    tag_list: list[Annotated[str, Constraints(max_length=3)]] = field(factory=list)
    email: Email | None = None
    url: URL | None = None
    ip: IPAddress | None = None
    address: Address | None = None
    addresses: list[Address] = field(factory=list)
    by_name: dict[str, Address] = field(factory=dict)


class Node(Model, embedded=True):
    """Recursive: a model nesting itself."""

    label: str = ""
    child: Node | None = None
    children: list[Node] = field(factory=list)


class Period(Model):
    start: dt.date
    end: dt.date
    note: str = field(default="", validator=lambda inst, f, v: _no_shouting(v))

    @model_validator
    def end_after_start(self) -> None:
        if self.end < self.start:
            raise ValueError("end must not be before start")

    @computed
    def days(self) -> int:
        """Length of the period in days."""
        return (self.end - self.start).days


def _no_shouting(value: str) -> None:
    if value.isupper():
        raise ValueError("please do not shout")


class Isbn(Model):
    isbn: str = field(primary_key=True, pattern=r"^\d{13}$")
    title: str = ""


class Base(Model):
    created: dt.datetime = field(factory=now_utc, read_only=True)


class Child(Base):
    name: str = ""


class Loose(Model, extra="ignore"):
    name: str = ""


class Choice(Model):
    size: str = field(default="m", choices=["s", "m", "l"])
    level: int = field(default=1, choices=[1, 2, 3])
