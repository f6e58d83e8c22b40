"""matches(): the reference semantics, reusable on models and stored documents."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tbone import Model, field
from tbone.storage import Q, compile_where, matches


class Item(Model):
    n: int | None = None
    price: Decimal | None = None
    extra: dict[str, Any] = field(factory=dict)


def test_matches_models_and_documents() -> None:
    node = compile_where(Item, Q(n__gt=1) | Q(n=None))
    assert matches(node, Item(n=2))
    assert matches(node, Item(n=None).to_data(full=True))
    assert not matches(node, Item(n=1))
    assert matches(None, Item())


def test_nulls_and_negation() -> None:
    assert not matches(compile_where(Item, n__lt=5), Item(n=None))
    assert matches(compile_where(Item, ~Q(n__lt=5)), Item(n=None))
    assert matches(compile_where(Item, n__ne=5), Item(n=None))


def test_native_comparison_and_strict_types() -> None:
    assert matches(compile_where(Item, price__gt=Decimal("9")), Item(price=Decimal("10")))
    assert not matches(compile_where(Item, extra__k=1), Item(extra={"k": True}))
    assert not matches(compile_where(Item, extra__k__gt=0), Item(extra={"k": "1"}))
    assert matches(compile_where(Item, extra__k=1), Item(extra={"k": 1.0}))
