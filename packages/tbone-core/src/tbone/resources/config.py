"""The checks ``API.register`` runs on a resource class: every option names what exists, and
no query option reaches a field clients may not read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..data import Converter, Model, fields_of, pk_of
from ..storage import Q
from ..storage.lookup import LOOKUPS
from ..storage.query import compile_where, parse_order
from .action import check_actions

if TYPE_CHECKING:
    from .resource import Resource

__all__ = ["check_config"]


def check_config(cls: type[Resource[Any]]) -> None:
    """Refuse a misconfigured resource class, naming what is wrong (``TypeError``)."""
    from .resource import ACTIONS, Resource  # the class this module serves

    where = f"{cls.__name__}"
    if not isinstance(getattr(cls, "model", None), type) or not issubclass(cls.model, Model):
        raise TypeError(f"{where}.model must be a tbone.Model subclass")
    pk_of(cls.model)  # embedded models cannot be resources
    unknown = set(cls.actions) - set(ACTIONS)
    if unknown:
        raise TypeError(f"{where}.actions has unknown actions {sorted(unknown)}; use {ACTIONS}")
    _check_query_options(cls)
    if not 0 < cls.page_size <= cls.max_page_size:
        raise TypeError(f"{where}: page_size must be between 1 and max_page_size")
    check_actions(cls, cls.custom_actions, Resource)


def _check_query_options(cls: type[Resource[Any]]) -> None:
    """Filters, orderings and search name fields of the model, with lookups that exist, and
    never a field clients may not read."""
    where = cls.__name__
    for path, lookups in cls.filter_fields.items():
        bad = set(lookups) - set(LOOKUPS)
        if bad:
            raise TypeError(f"{where}.filter_fields[{path!r}] has unknown lookups {sorted(bad)}")
        compile_where(cls.model, Q(**{f"{path.replace('.', '__')}__exists": True}))
        _refuse_hidden(cls, "filter_fields", path)
    parse_order(cls.model, [*cls.order_fields, *cls.default_order])
    for key in cls.order_fields:
        _refuse_hidden(cls, "order_fields", key)
    for key in cls.default_order:
        _refuse_hidden(cls, "default_order", key.lstrip("-"))
    for name in cls.search_fields:
        compile_where(cls.model, Q(**{f"{name.replace('.', '__')}__icontains": "x"}))
        _refuse_hidden(cls, "search_fields", name)


def _refuse_hidden(resource: type[Resource[Any]], option: str, path: str) -> None:
    """Private and write-only fields cannot be filtered, ordered or searched on: each would
    answer questions about values no client may read."""
    models: list[Any] = [resource.model]
    for name in path.split("."):
        # every member of a tagged union (Cat | Dog) that declares the field is checked
        infos = [i for m in models if (i := fields_of(m).get(name)) is not None]
        if not infos:
            return  # past the declared models (untyped data): nothing hidden there
        for info in infos:
            if info.options.private or info.options.write_only:
                raise TypeError(
                    f"{resource.__name__}.{option} names {path!r}, but {name!r} is "
                    f"{'private' if info.options.private else 'write-only'}: clients could "
                    "learn its values from which objects match. Remove it from the option."
                )
        models = [m for info in infos for m in _held_models(info.converter)]


def _held_models(conv: Converter) -> list[Any]:
    """The models a field holds: its model, a union's members, or those of its items."""
    for each in (conv, conv.item):
        if each is not None and each.union is not None:
            return list(each.union.members)
        if each is not None and each.model is not None:
            return [each.model]
    return []
