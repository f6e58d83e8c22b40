"""Custom actions: resource methods served beside the CRUD verbs, with the same checks.

::

    class BookResource(Resource[Book]):
        model = Book

        @action(detail=True, methods=["POST"], input=Review)
        async def review(self, ctx: Context, obj: Book, data: Review) -> Book:
            return await self.change(obj.id, {"reviews": obj.reviews + 1})

        @action(methods=["GET"])
        async def bestsellers(self, ctx: Context, data: dict[str, str]) -> list[Book]:
            return (await self.collection.find(order_by="-sold", limit=10)).items

gives ``POST /api/books/{id}/review`` and ``GET /api/books/bestsellers``. The URL segment and
the permission action are the method's name. A collection action's name takes precedence over
a primary key at ``{prefix}/{name}/{segment}``: an object whose key equals the name of a
collection action cannot be reached by URL (pick keys that cannot collide, as generated ids do).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

import attrs

from ..data import Model, fields_of
from ..errors import NotFound, ValidationError
from .refs import check_references

if TYPE_CHECKING:
    from .context import Context
    from .resource import Resource

__all__ = [
    "ACTION_METHODS",
    "RESERVED_ACTION_NAMES",
    "Action",
    "action",
    "actions_of",
    "run_action",
]

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

#: the HTTP methods an action may answer (HEAD comes with GET, OPTIONS always)
ACTION_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: the CRUD actions' names (an action of the same name would share their permission), and
#: ``get`` (OpenAPI names the detail operation ``get_{resource}``)
RESERVED_ACTION_NAMES = frozenset(
    {"list", "detail", "create", "replace", "update", "delete", "get"}
)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_SAFE = frozenset({"GET", "HEAD"})
_MARK = "__tbone_action__"


@attrs.frozen(kw_only=True)
class Action:
    """One custom action: what ``@action`` records about a resource method."""

    name: str
    #: True: ``{prefix}/{resource}/{pk}/{name}`` on one object; False: ``.../{name}``
    detail: bool
    methods: tuple[str, ...]
    #: the model ``data`` is validated into, or None for the raw JSON (or query) value
    input: type[Model] | None
    function: Callable[..., Awaitable[Any]]

    @property
    def http_methods(self) -> tuple[str, ...]:
        """What the route answers: the action's methods, HEAD with GET."""
        methods = list(self.methods)
        if "GET" in methods:
            methods.insert(methods.index("GET") + 1, "HEAD")
        return tuple(methods)

    @property
    def summary(self) -> str:
        doc = inspect.getdoc(self.function)
        if not doc:
            return f"The {self.name} action"
        return " ".join(doc.split("\n\n", 1)[0].split())  # the first paragraph, on one line

    async def run(self, resource: Resource[Any], ctx: Context, obj: Any, data: Any) -> Any:
        if self.detail:
            return await self.function(resource, ctx, obj, data)
        return await self.function(resource, ctx, data)

    def parse(self, data: Any) -> Any:
        """The action's ``data``: validated into :attr:`input` when it has one (422 with the
        paths of every problem); an absent body validates as ``{}``."""
        if self.input is None:
            return data
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise ValidationError.single([], "expected a JSON object", "model_type")
        return self.input.from_data(data)

    def query_data(self, pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
        """A GET action's ``data`` from its query string: a name given twice is a list, and
        with an ``input`` model the texts of its integer, number and boolean fields are typed
        (a text that is not one stays a text, for the model to refuse with its path)."""
        data: dict[str, Any] = {}
        for name, value in pairs:
            if name in data:
                previous = data[name]
                data[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
            else:
                data[name] = value
        if self.input is None:
            return data
        fields = fields_of(self.input)
        return {
            k: _typed(fields[k].converter.python_type, v) if k in fields else v
            for k, v in data.items()
        }


@overload
def action(function: F, /) -> F: ...


@overload
def action(
    *,
    detail: bool = False,
    methods: Iterable[str] = ("POST",),
    input: type[Model] | None = None,
) -> Callable[[F], F]: ...


def action(
    function: F | None = None,
    /,
    *,
    detail: bool = False,
    methods: Iterable[str] = ("POST",),
    input: type[Model] | None = None,  # noqa: A002  # the name the API documents
) -> F | Callable[[F], F]:
    """Serve a resource method as a custom action (see the module docstring).

    ``detail=True`` methods take ``(self, ctx, obj, data)`` and run on the object named by the
    URL (404 outside the caller's scope); others take ``(self, ctx, data)``. ``methods`` are
    the HTTP methods it answers (``POST`` by default); ``input`` a model ``data`` is validated
    into. The method itself stays a plain method; :meth:`Resource.call` runs it with every
    check, as HTTP and the WebSocket do.
    """
    verbs = tuple(
        dict.fromkeys(m.upper() for m in ([methods] if isinstance(methods, str) else methods))
    )

    def mark(fn: F) -> F:
        setattr(fn, _MARK, (detail, verbs, input))
        return fn

    return mark(function) if function is not None else mark


def actions_of(cls: type) -> dict[str, Action]:
    """The custom actions of a resource class, inherited ones included, by name."""
    found: dict[str, Action] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            mark = getattr(value, _MARK, None)
            if mark is not None:
                detail, methods, input_model = mark
                found[name] = Action(
                    name=name, detail=detail, methods=methods, input=input_model, function=value
                )
            elif name in found:  # overridden by a plain attribute: no longer an action
                del found[name]
    return found


def check_actions(cls: type, actions: Mapping[str, Action], base: type) -> None:
    """Refuse, when the resource is registered, an action that could not be served: one
    named like a CRUD action (it would share its permission), like an attribute of ``base``
    (``Resource``: it would replace it), or not starting with a letter."""
    where = cls.__name__
    for name, spec in actions.items():
        if name in RESERVED_ACTION_NAMES or hasattr(base, name) or _NAME.fullmatch(name) is None:
            raise TypeError(
                f"{where}.{name}: an action cannot be named {name!r}: the CRUD actions' names "
                f"({', '.join(sorted(RESERVED_ACTION_NAMES))}), the names of Resource's "
                "attributes and names not starting with a letter are reserved. Rename the method."
            )
        bad = [m for m in spec.methods if m not in ACTION_METHODS]
        if not spec.methods or bad:
            raise TypeError(
                f"{where}.{name}: methods must be some of {', '.join(ACTION_METHODS)}, got "
                f"{list(spec.methods)}"
            )
        if spec.input is not None and not (
            isinstance(spec.input, type) and issubclass(spec.input, Model)  # type: ignore[redundant-expr]  # users pass anything
        ):
            raise TypeError(f"{where}.{name}: input must be a tbone.Model subclass")
        _check_signature(where, spec)


def _check_signature(where: str, spec: Action) -> None:
    if not inspect.iscoroutinefunction(spec.function):
        raise TypeError(f"{where}.{spec.name}: an action must be an async method")
    expected = ["self", "ctx", "obj", "data"] if spec.detail else ["self", "ctx", "data"]
    try:
        inspect.signature(spec.function).bind(*expected)
    except TypeError:
        shown = ", ".join(expected)
        raise TypeError(
            f"{where}.{spec.name}: a {'detail' if spec.detail else 'collection'} action takes "
            f"({shown})"
        ) from None


def unknown_action(resource: Resource[Any], name: str, detail: bool) -> NotFound:
    where = "one object of " if detail else ""
    names = sorted(n for n, a in resource.custom_actions.items() if a.detail == detail)
    return NotFound(
        f"{where}{resource.name} has no action {name!r}; its actions: {', '.join(names) or 'none'}"
    )


async def run_action(resource: Resource[Any], name: str, pk: Any, data: Any, ctx: Context) -> Any:
    """:meth:`Resource.call`: every check, then the action."""
    spec = resource.custom_actions.get(name)
    if spec is None or (pk is not None) != spec.detail:
        raise unknown_action(resource, name, pk is not None)
    await resource.authorize(ctx, name)
    obj = None
    if spec.detail:
        obj = await resource.get_visible(pk, ctx)
        await resource.authorize(ctx, name, obj)
    value = spec.parse(data)
    if isinstance(value, Model):
        await check_references(resource, [value], ctx)
    await resource.before_action(ctx, name, obj, value)
    result = await spec.run(resource, ctx, obj, value)
    await resource.after_action(ctx, name, result)
    return result


def is_safe(method: str) -> bool:
    return method in _SAFE


def render(resource: Resource[Any], result: Any, ctx: Context) -> Any:
    """An action's result as JSON: objects of the resource as the caller may see them, other
    models by ``to_data()`` (private and write-only fields left out), lists item by item."""
    if isinstance(result, resource.model):
        return resource.serialize(result, ctx)
    if isinstance(result, Model):
        return result.to_data()
    if isinstance(result, list | tuple):
        return [render(resource, item, ctx) for item in result]
    return result


def _typed(python_type: Any, value: Any) -> Any:
    if isinstance(value, list):
        return [_typed(python_type, v) for v in value]
    try:
        if python_type is bool and value in ("true", "false"):
            return value == "true"
        if python_type is int and re.fullmatch(r"-?[0-9]{1,18}", value):
            return int(value)
        if python_type is float and re.fullmatch(r"-?[0-9]{1,18}(\.[0-9]{1,18})?", value):
            return float(value)
    except ValueError:
        pass
    return value
