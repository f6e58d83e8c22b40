"""Kit behaviours: tagged-union fields (``KitCat | KitDog``) round-trip and filter alike.

A store needs nothing special for them (they are nested objects told apart by a tag), so these
behaviours check what could still go wrong: the member type surviving a round trip, private
fields inside a member, filters on the tag, on fields every member has, on fields only one
member has (the others never match), ordering by a shared field, and a write that turns one
member into another.
"""

from __future__ import annotations

from typing import Any, Literal

from tbone.data import Model, field
from tbone.errors import QueryError
from tbone.storage import Collection, Q, Store

from .kit import Behaviour, behaviour

__all__ = ["BEHAVIOURS", "KitCat", "KitDog", "KitHome"]


class KitCat(Model, embedded=True):
    kind: Literal["cat"] = "cat"
    name: str
    lives: int = 9
    chip: str | None = field(default=None, private=True)


class KitDog(Model, embedded=True):
    kind: Literal["dog", "puppy"] = "dog"
    name: str
    good: bool = True


class KitHome(Model):
    id: str = field(primary_key=True)
    pet: KitCat | KitDog
    spare: KitCat | KitDog | None = None
    pets: list[KitCat | KitDog] = field(factory=list)


def _homes() -> list[KitHome]:
    """Five homes; ids 1..5."""
    return [
        KitHome(id="1", pet=KitCat(name="Tom", lives=3, chip="c1"), pets=[KitDog(name="Rex")]),
        KitHome(id="2", pet=KitDog(name="Rex"), spare=KitCat(name="Kit")),
        KitHome(id="3", pet=KitDog(kind="puppy", name="Bo", good=False)),
        KitHome(id="4", pet=KitCat(name="Ada"), spare=KitDog(name="Tom")),
        KitHome(id="5", pet=KitCat(name="Zed", lives=1), pets=[KitCat(name="a"), KitDog(name="b")]),
    ]


async def _stocked(store: Store, name: str) -> Collection[KitHome]:
    coll = store.collection(KitHome, name)
    await coll.insert_many(_homes())
    return coll


async def _ids(coll: Collection[KitHome], *q: Q, **kw: Any) -> list[str]:
    return [h.id for h in await coll.find(*q, order_by=kw.pop("order_by", ["id"]), **kw)]


@behaviour("union_round_trip")
async def union_round_trip(store: Store) -> None:
    """Each member comes back as itself, in fields, lists and nullable fields."""
    coll = await _stocked(store, "kit_union_trip")
    for home in _homes():
        got = await coll.get(home.id)
        assert got == home, f"{home.id}: stored {home!r}, read {got!r}"
        assert got is not None
        assert type(got.pet) is type(home.pet)
    found = {h.id: h for h in await coll.find()}
    assert found == {h.id: h for h in _homes()}
    first = found["1"]
    assert isinstance(first.pet, KitCat)
    assert first.pet.chip == "c1", "a private field inside a member"
    assert [type(p) for p in found["5"].pets] == [KitCat, KitDog]


_FILTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({"pet__kind": "cat"}, ["1", "4", "5"]),
    ({"pet__kind__in": ["dog", "puppy"]}, ["2", "3"]),
    ({"pet__kind__ne": "cat"}, ["2", "3"]),
    ({"pet__name": "Rex"}, ["2"]),
    ({"pet__name__startswith": "Z"}, ["5"]),
    ({"pet__name__icontains": "o"}, ["1", "3"]),
    ({"pet__lives__lt": 5}, ["1", "5"]),  # only cats have lives: dogs never match
    ({"pet__lives__exists": False}, ["2", "3"]),
    ({"pet__good": False}, ["3"]),
    ({"spare__kind": "dog"}, ["4"]),
    ({"spare": None}, ["1", "3", "5"]),
    ({"spare__name": "Tom", "pet__kind": "cat"}, ["4"]),
]


@behaviour("union_filter")
async def union_filter(store: Store) -> None:
    """Filters on the tag, on fields every member has, and on one member's fields."""
    coll = await _stocked(store, "kit_union_filter")
    for lookups, expected in _FILTERS:
        got = await _ids(coll, **lookups)
        assert got == expected, f"{lookups}: expected {expected}, got {got}"
        assert await coll.count(**lookups) == len(expected), f"count({lookups})"
    either = Q(pet__kind="dog") | Q(pet__lives__gte=9)
    assert await _ids(coll, either) == ["2", "4"]
    assert await _ids(coll, ~Q(pet__kind="cat"), pet__good=True) == ["2"]
    assert await _ids(coll, order_by=["pet.name", "id"]) == ["4", "3", "2", "1", "5"]
    assert await _ids(coll, order_by=["-pet.lives", "id"]) == ["4", "1", "5", "2", "3"]
    assert await _ids(coll, order_by=["-pet.kind", "id"]) == ["3", "2", "1", "4", "5"]
    page = await coll.find(pet__kind="cat", order_by=["pet.name"], limit=2)
    assert [h.id for h in page] == ["4", "1"]
    if coll.supports_cursor(["pet.name"]):  # keyset pages over a member's field
        assert page.next_cursor is not None
        rest = await coll.find(pet__kind="cat", order_by=["pet.name"], cursor=page.next_cursor)
        assert [h.id for h in rest] == ["5"]


@behaviour("union_filter_refused")
async def union_filter_refused(store: Store) -> None:
    """A tag no member has, a field no member has, or a value of the wrong type: QueryError."""
    coll = await _stocked(store, "kit_union_refused")
    for bad in (
        {"pet__kind": "cow"},
        {"pet__kind__in": ["cat", 3]},
        {"pet__bark": 1},
        {"pet__lives": "many"},
        {"pet__kind__startswith": 1},
    ):
        try:
            await coll.find(**bad)
        except QueryError:
            continue
        raise AssertionError(f"{bad} should raise QueryError")


@behaviour("union_change_member")
async def union_change_member(store: Store) -> None:
    """A write may turn a cat into a dog; filters see the new member only."""
    coll = await _stocked(store, "kit_union_change")
    changed = await coll.update("1", {"pet": {"kind": "dog", "name": "Tom", "good": False}})
    assert changed.pet == KitDog(name="Tom", good=False)
    assert await coll.get("1") == changed
    assert await _ids(coll, pet__kind="cat") == ["4", "5"]
    assert await _ids(coll, pet__good=False) == ["1", "3"]
    assert await _ids(coll, pet__lives__exists=True) == ["4", "5"]
    replaced = await coll.replace(KitHome(id="3", pet=KitCat(name="Bo", lives=2)))
    assert await coll.get("3") == replaced
    assert await _ids(coll, pet__lives=2) == ["3"]


BEHAVIOURS: tuple[Behaviour, ...] = tuple(
    v for v in list(globals().values()) if isinstance(v, Behaviour)
)
