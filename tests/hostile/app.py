"""The API under attack: two users with row scopes, and every kind of field a client must not write.

``docs`` (generated text ids) carries a private, a read-only and a write-only field, a unique
text field and a unique integer, an untyped mapping, and an embedded model (single and in a
list) that has private and read-only fields of its own. ``counters`` has an integer primary key
chosen by the client. Both are scoped to their owner: alice never sees bob's rows.

The data every case starts from is :data:`SEED`; it is written straight into the store (a
trusted write that may set private and read-only values), so that cases can name fixed ids
and check afterwards, by a trusted read, that nothing a client sent was stored.
"""

from __future__ import annotations

from typing import Any, Literal

from tbone import (
    API,
    BearerToken,
    Context,
    IsAuthenticated,
    Model,
    Q,
    Ref,
    ValidationError,
    action,
    field,
)
from tbone.resources import Resource

TOKENS = {"alice-token": "alice", "bob-token": "bob"}
ALICE = {"Authorization": "Bearer alice-token"}
BOB = {"Authorization": "Bearer bob-token"}
#: what a hostile client writes into fields it must not set; never found in stored data
MARK = "PWNED"


class Box(Model, embedded=True):
    """Embedded in a doc: its private and read-only fields are the server's, at every depth."""

    label: str = field(default="", max_length=100)
    hidden: str = field(default="", private=True)
    stamp: str = field(default="server", read_only=True)


class Counter(Model):
    num: int = field(primary_key=True)
    label: str = field(default="", max_length=100)
    owner: str = field(default="", read_only=True)
    hits: int = field(default=0, private=True)
    stock: int = field(default=10, ge=0, le=1000)
    marks: list[str] = field(factory=list, max_length=20)


class Cat(Model, embedded=True):
    """A member of the tagged union ``Doc.pet``."""

    kind: Literal["cat"]
    name: str = field(default="", max_length=50)
    lives: int = field(default=9, ge=0, le=9)


class Dog(Model, embedded=True):
    """The other member: a private and a read-only field of its own."""

    kind: Literal["dog"]
    name: str = field(default="", max_length=50)
    chip: str = field(default="", private=True)
    vet: str = field(default="server", read_only=True)


class Doc(Model):
    title: str = field(min_length=1, max_length=200)
    year: int | None = field(default=None, ge=0, le=3000)
    code: str | None = field(default=None, unique=True, max_length=50)
    serial: int | None = field(default=None, unique=True)
    tags: list[str] = field(factory=list)
    extra: dict[str, Any] = field(factory=dict)  # untyped values
    box: Box | None = None
    boxes: list[Box] = field(factory=list)
    owner: str = field(default="", read_only=True)
    status: str = field(default="draft", read_only=True)
    secret: str = field(default="", write_only=True)
    cost: float = field(default=0.0, private=True)
    note: str = field(default="", private=True)
    pet: Cat | Dog | None = None
    counter: Ref[Counter] | None = None
    counters: list[Ref[Counter]] = field(factory=list, max_length=20)


class Take(Model, embedded=True):
    """The input of ``POST /api/counters/{num}/take``."""

    n: int = field(ge=1, le=100)
    mark: str = field(default="", max_length=20)


class OwnedResource(Resource[Any]):
    """Row scope and owner stamping shared by both resources (no model: never registered)."""

    permissions = (IsAuthenticated(),)

    def scope(self, ctx: Context) -> Q | None:
        return None if ctx.trusted else Q(owner=ctx.user)

    async def before_create(self, ctx: Context, data: dict[str, Any]) -> None:
        if not ctx.trusted:
            data["owner"] = ctx.user


class DocResource(OwnedResource):
    model = Doc
    name = "docs"
    filter_fields = {
        "title": ["exact", "in", "icontains", "startswith"],
        "year": ["exact", "gte", "lte", "in", "ne"],
        "code": ["exact", "in"],
        "serial": ["exact", "in", "gte"],
        "tags": ["contains"],
        "box.label": ["exact"],
        "pet.kind": ["exact", "in"],
        "pet.name": ["exact"],
        "pet.lives": ["exact", "gte"],
    }
    order_fields = ("year", "title", "serial")
    default_order = ("title",)
    search_fields = ("title",)
    page_size = 5
    max_page_size = 50
    max_bulk_size = 10


class CounterResource(OwnedResource):
    model = Counter
    name = "counters"
    filter_fields = {"num": ["exact", "in", "gte", "lte"], "label": ["exact"]}
    order_fields = ("num", "label")
    default_order = ("num",)
    page_size = 5
    max_page_size = 50
    max_bulk_size = 10

    @action(detail=True, methods=["POST"], input=Take)
    async def take(self, ctx: Context, obj: Counter, data: Take) -> Counter:
        """Take ``n`` from the stock in one atomic step (never below 0), noting ``mark``."""
        push = {"marks": data.mark} if data.mark else None
        return await self.change(obj.num, inc={"stock": -data.n}, push=push)

    @action(methods=["GET"])
    async def low(self, ctx: Context, data: dict[str, str]) -> list[dict[str, Any]]:
        """The caller's counters with little stock (``below``, default 5)."""
        text = data.get("below", "5")
        if not (text.isascii() and text.isdigit() and len(text) <= 4):
            raise ValidationError.single(["below"], "a whole number up to 9999", "type")
        page = await self.collection.find(Q(owner=ctx.user), stock__lt=int(text), limit=50)
        return [{"num": c.num, "stock": c.stock} for c in page]


def _doc(pk: str, owner: str, title: str, **more: Any) -> dict[str, Any]:
    box = {"label": f"{pk}-box", "hidden": f"{pk}-hidden", "stamp": f"{pk}-stamp"}
    return {
        "id": pk,
        "title": title,
        "owner": owner,
        "status": "published",
        "secret": f"{pk}-secret",
        "cost": 9.5,
        "note": f"{pk}-note",
        "box": box,
        "boxes": [box],
        "pet": {"kind": "dog", "name": f"{pk}-dog", "chip": f"{pk}-chip", "vet": f"{pk}-vet"},
        **more,
    }


#: resource name -> the stored documents (full form: private and read-only values included)
SEED: dict[str, list[dict[str, Any]]] = {
    "docs": [
        _doc("a1", "alice", "Dune", year=1965, code="A-1", serial=1, tags=["scifi"], counter=1),
        _doc(
            "a2",
            "alice",
            "Emma",
            year=1815,
            code="A-2",
            serial=2,
            tags=["classic"],
            counter=3,
            counters=[1, 3, 2],
        ),  # counter 3 is bob's: a trusted write; alice's expand must not show it
        _doc("a3", "alice", "Solaris", year=1961, code="A-3", serial=3),
        _doc("b1", "bob", "Kindred", year=1979, code="B-1", serial=11, tags=["classic"]),
        _doc("b2", "bob", "Ficciones", year=1944, code="B-2", serial=12),
    ],
    "counters": [
        {"num": 1, "label": "alice one", "owner": "alice", "hits": 5},
        {"num": 2, "label": "alice two", "owner": "alice", "hits": 6, "stock": 100},
        {"num": 1960, "label": "alice 1960", "owner": "alice", "hits": 7},
        {"num": 10, "label": "alice ten", "owner": "alice", "hits": 8},
        {"num": 3, "label": "bob three", "owner": "bob", "hits": 9},
    ],
}
MODELS: dict[str, type[Model]] = {"docs": Doc, "counters": Counter}


def build_api(store: str) -> API:
    """The hostile API on ``store``: bearer tokens (:data:`TOKENS`), both resources."""
    api = API(prefix="/api", stores=store, authenticator=BearerToken(TOKENS))
    api.register(DocResource)
    api.register(CounterResource)
    return api
