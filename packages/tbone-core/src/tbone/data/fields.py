"""``field()``, computed output fields and model-level validators."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any, Generic, TypeVar, overload

import attrs

from .constraints import Constraints
from .convert import Converter

__all__ = ["FieldInfo", "FieldOptions", "computed", "field", "model_validator"]

T = TypeVar("T")
_META_KEY = "tbone"

#: attrs-style validator: ``(instance, field, value)``, raising ValueError/TypeError when invalid
FieldValidator = Callable[[Any, "FieldInfo", Any], Any]


@attrs.frozen(kw_only=True)
class FieldOptions:
    """What ``field()`` says about a field beyond its type and default."""

    primary_key: bool = False
    unique: bool = False
    #: other fields whose values scope the uniqueness (``unique_with=["owner"]``)
    unique_with: tuple[str, ...] = ()
    index: bool = False
    read_only: bool = False
    write_only: bool = False
    private: bool = False
    constraints: Constraints = attrs.field(factory=Constraints)
    validators: tuple[FieldValidator, ...] = ()
    description: str | None = None
    examples: tuple[Any, ...] = ()


@attrs.define(kw_only=True, eq=False)
class FieldInfo:
    """A model field as TBone sees it: name, resolved type, options and converter."""

    name: str
    type: Any
    options: FieldOptions
    converter: Converter
    has_default: bool
    default: Any = None
    factory: Callable[[], Any] | None = None

    @property
    def required(self) -> bool:
        return not self.has_default

    @property
    def model(self) -> type | None:
        """The nested model class of this field (through ``Optional``), if it holds one."""
        return self.converter.model

    def load(self, value: Any) -> Any:
        """Convert one wire value for this field, raising :class:`tbone.ValidationError`."""
        from ..errors import ValidationError
        from ._invalid import Invalid, prefixed

        try:
            return self.converter.load(value)
        except Invalid as exc:
            raise ValidationError(prefixed(exc.errors, self.name)) from None

    def dump(self, value: Any) -> Any:
        """The JSON-ready form of one native value of this field."""
        return value if self.converter.dump is None else self.converter.dump(value)


@overload
def field(
    *,
    default: T,
    primary_key: bool = ...,
    unique: bool = ...,
    unique_with: Sequence[str] = ...,
    index: bool = ...,
    read_only: bool = ...,
    write_only: bool = ...,
    private: bool = ...,
    choices: Collection[Any] | None = ...,
    min_length: int | None = ...,
    max_length: int | None = ...,
    pattern: str | None = ...,
    ge: Any = ...,
    gt: Any = ...,
    le: Any = ...,
    lt: Any = ...,
    validator: FieldValidator | Sequence[FieldValidator] | None = ...,
    description: str | None = ...,
    examples: Sequence[Any] = ...,
) -> T: ...


@overload
def field(
    *,
    factory: Callable[[], T],
    primary_key: bool = ...,
    unique: bool = ...,
    unique_with: Sequence[str] = ...,
    index: bool = ...,
    read_only: bool = ...,
    write_only: bool = ...,
    private: bool = ...,
    choices: Collection[Any] | None = ...,
    min_length: int | None = ...,
    max_length: int | None = ...,
    pattern: str | None = ...,
    ge: Any = ...,
    gt: Any = ...,
    le: Any = ...,
    lt: Any = ...,
    validator: FieldValidator | Sequence[FieldValidator] | None = ...,
    description: str | None = ...,
    examples: Sequence[Any] = ...,
) -> T: ...


@overload
def field(
    *,
    primary_key: bool = ...,
    unique: bool = ...,
    unique_with: Sequence[str] = ...,
    index: bool = ...,
    read_only: bool = ...,
    write_only: bool = ...,
    private: bool = ...,
    choices: Collection[Any] | None = ...,
    min_length: int | None = ...,
    max_length: int | None = ...,
    pattern: str | None = ...,
    ge: Any = ...,
    gt: Any = ...,
    le: Any = ...,
    lt: Any = ...,
    validator: FieldValidator | Sequence[FieldValidator] | None = ...,
    description: str | None = ...,
    examples: Sequence[Any] = ...,
) -> Any: ...


def field(
    *,
    default: Any = attrs.NOTHING,
    factory: Callable[[], Any] | None = None,
    primary_key: bool = False,
    unique: bool = False,
    unique_with: Sequence[str] = (),
    index: bool = False,
    read_only: bool = False,
    write_only: bool = False,
    private: bool = False,
    choices: Collection[Any] | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
    ge: Any = None,
    gt: Any = None,
    le: Any = None,
    lt: Any = None,
    validator: FieldValidator | Sequence[FieldValidator] | None = None,
    description: str | None = None,
    examples: Sequence[Any] = (),
) -> Any:
    """Declare a model field with a default and options.

    >>> from tbone import Model, field
    >>> class Book(Model):
    ...     title: str = field(min_length=1, max_length=200)
    ...     isbn: str | None = field(default=None, pattern=r"^\\d{13}$", unique=True)

    ``read_only`` fields are set by the server, never by clients; ``write_only`` fields are
    accepted from clients but never shown; ``private`` fields never cross the API at all.
    ``validator`` is attrs-style: ``fn(instance, field, value)`` raising ``ValueError``.
    ``unique_with=["owner"]`` makes the field unique among documents with the same ``owner``
    (so a value held by another owner is neither refused nor revealed).
    """
    if default is not attrs.NOTHING and factory is not None:
        raise TypeError("field() takes default or factory, not both")
    if private and (read_only or write_only):
        raise TypeError("a private field never crosses the API; read_only/write_only do not apply")
    if read_only and write_only:
        raise TypeError("a field cannot be both read_only and write_only")
    if isinstance(unique_with, str):
        raise TypeError("unique_with takes a list of field names, e.g. unique_with=['owner']")
    if primary_key and unique_with:
        raise TypeError("a primary key is unique in the whole collection; unique_with cannot apply")
    validators: tuple[FieldValidator, ...]
    if validator is None:
        validators = ()
    elif callable(validator):
        validators = (validator,)
    else:
        validators = tuple(validator)
    options = FieldOptions(
        primary_key=primary_key,
        unique=unique or primary_key or bool(unique_with),
        unique_with=tuple(unique_with),
        index=index or unique or primary_key,
        read_only=read_only,
        write_only=write_only,
        private=private,
        constraints=Constraints(
            min_length=min_length,
            max_length=max_length,
            pattern=pattern,
            ge=ge,
            gt=gt,
            le=le,
            lt=lt,
            choices=tuple(choices) if choices is not None else None,
        ),
        validators=validators,
        description=description,
        examples=tuple(examples),
    )
    if factory is not None:
        return attrs.field(factory=factory, metadata={_META_KEY: options})
    return attrs.field(default=default, metadata={_META_KEY: options})


def options_of(attribute: attrs.Attribute[Any]) -> FieldOptions:
    found = attribute.metadata.get(_META_KEY)
    return found if isinstance(found, FieldOptions) else FieldOptions()


class computed(Generic[T]):
    """An output-only field computed from the others, included in ``to_data()``.

    >>> from tbone import Model, computed
    >>> class Rect(Model):
    ...     w: int
    ...     h: int
    ...
    ...     @computed
    ...     def area(self) -> int:
    ...         return self.w * self.h
    """

    def __init__(self, fn: Callable[[Any], T]) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> computed[T]: ...

    @overload
    def __get__(self, obj: object, owner: type) -> T: ...

    def __get__(self, obj: object | None, owner: type) -> computed[T] | T:
        if obj is None:
            return self
        return self.fn(obj)


_VALIDATOR_FLAG = "__tbone_model_validator__"


def model_validator(fn: Callable[[T], None]) -> Callable[[T], None]:
    """Mark a method as a cross-field check, run after every field is valid.

    Raise ``ValueError`` for a problem with the whole object, or ``tbone.ValidationError``
    with precise locations::

        @model_validator
        def check_dates(self) -> None:
            if self.end < self.start:
                raise ValueError("end must not be before start")
    """
    setattr(fn, _VALIDATOR_FLAG, True)
    return fn


def is_model_validator(obj: Any) -> bool:
    return callable(obj) and getattr(obj, _VALIDATOR_FLAG, False) is True
