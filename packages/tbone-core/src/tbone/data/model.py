"""``Model``: the attrs-based document class, and the per-model codec compiled on first use."""

from __future__ import annotations

import inspect
import sys
import typing
import uuid
import weakref
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, dataclass_transform

import attrs

from ..errors import ErrorDetail, ValidationError
from ._invalid import Invalid
from .codegen import generate
from .convert import Builder, Converter
from .fields import FieldInfo, computed, field, is_model_validator, options_of
from .unions import find_tag, model_unions, refuse_mixed

__all__ = ["Model", "fields_of", "new_id", "pk_of", "set_version", "version_of"]

Extra = Literal["forbid", "ignore"]
_MISSING: Any = object()
_FACTORY: Any = type(attrs.Factory(list))  # attrs types Factory as a function
_VERSION = "_tbone_version"
# Class names of every model, to resolve string annotations of models that refer to each other.
_known_models: weakref.WeakValueDictionary[str, type[Model]] = weakref.WeakValueDictionary()


def new_id() -> str:
    """A new random primary key: 32 lowercase hex characters."""
    return uuid.uuid4().hex


@dataclass_transform(kw_only_default=True, field_specifiers=(field, attrs.field))
class Model:
    """Base class of TBone documents: declare fields as annotated class attributes.

    >>> from tbone import Model, field
    >>> class Author(Model):
    ...     name: str = field(min_length=1)
    >>> Author.from_data({"name": "Frank Herbert"}).name
    'Frank Herbert'

    Every stored model has a primary key: the field marked ``primary_key=True``, else an
    ``id: str`` generated for each new object. A model that only ever lives inside another one
    says so with ``class Address(Model, embedded=True)`` and gets no implicit key.
    Unknown input fields are rejected (``extra="forbid"``); ``class Loose(Model, extra="ignore")``
    drops them instead.
    """

    __tbone_extra__: ClassVar[Extra] = "forbid"
    __tbone_pk__: ClassVar[str | None]
    __tbone_codec__: ClassVar[_Codec | None] = None

    if TYPE_CHECKING:
        # The implicit primary key, for type checkers (added at runtime by _ensure_primary_key).
        # Not an __init__ parameter to them: it is generated; pass id=... only at runtime.
        id: str

    def __init_subclass__(
        cls, *, extra: Extra | None = None, embedded: bool | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if extra is not None:
            if extra not in ("forbid", "ignore"):
                raise TypeError(f"extra must be 'forbid' or 'ignore', not {extra!r}")
            cls.__tbone_extra__ = extra
        cls.__tbone_pk__ = _own_primary_key(cls) if embedded else _ensure_primary_key(cls)
        attrs.define(cls, slots=False, kw_only=True, auto_attribs=True, order=False)
        _known_models[f"{cls.__module__}:{cls.__qualname__}"] = cls
        _check_unions(cls)

    def __attrs_post_init__(self) -> None:
        codec = _codec(type(self))
        try:
            codec.check(self)
        except Invalid as exc:
            raise ValidationError(exc.errors) from None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Self:
        """Validate and convert wire data (JSON-decoded) into a model, reporting every problem.

        Raises :class:`tbone.ValidationError` whose ``errors`` list each problem's
        ``loc``, ``msg`` and ``type``.
        """
        try:
            codec = cls.__tbone_codec__
            if codec is None or codec.model is not cls:  # _codec(cls), with no call when ready
                codec = _codec(cls)
            return codec.load(data)  # type: ignore[return-value]  # the codec builds cls
        except Invalid as exc:
            raise ValidationError(exc.errors) from None
        except RecursionError:
            raise ValidationError.single([], "input is nested too deeply", "too_deep") from None

    def to_data(
        self, *, fields: Collection[str] | None = None, full: bool = False
    ) -> dict[str, Any]:
        """The JSON-ready wire form: private and write-only fields left out, computed ones in.

        ``fields`` keeps only the named fields; ``full=True`` gives every stored field
        (private and write-only included, computed left out), the form stores persist.
        """
        codec = self.__tbone_codec__
        if codec is None or codec.model is not type(self):  # as in from_data
            codec = _codec(type(self))
        data: dict[str, Any] = codec.dump_full(self) if full else codec.dump(self)
        if fields is not None:
            return {k: v for k, v in data.items() if k in fields}
        return data

    def validate(self) -> None:
        """Check the object again after its attributes were assigned directly."""
        self.__attrs_post_init__()

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema (2020-12) of this model, nested models under ``$defs``."""
        from .schema import model_schema

        return model_schema(cls)


def fields_of(model: type[Model]) -> Mapping[str, FieldInfo]:
    """The fields of a model class by name, in declaration order (inherited first)."""
    return _codec(model).fields


def pk_of(model: type[Model]) -> str:
    """The name of the model's primary key field; a TypeError for embedded models."""
    pk = model.__tbone_pk__
    if pk is None:
        raise TypeError(
            f"{model.__name__} is embedded (declared with embedded=True) and has no primary key; "
            "it can be nested in other models but not stored on its own"
        )
    return pk


def version_of(obj: Model) -> int | None:
    """The stored version of a document, as set by the store that loaded or wrote it."""
    version = obj.__dict__.get(_VERSION)
    return version if isinstance(version, int) else None


def set_version(obj: Model, version: int | None) -> None:
    """Record the stored version of a document (for stores)."""
    obj.__dict__[_VERSION] = version


def computed_of(model: type[Model]) -> Mapping[str, computed[Any]]:
    return _codec(model).computed


def nested_models_of(model: type[Model]) -> list[type[Model]]:
    return _codec(model).nested


def is_private(model: type, name: str) -> bool:
    """Whether ``model`` declares ``name`` as a private field."""
    attribute = attrs.fields_dict(typing.cast(Any, model)).get(name)
    return attribute is not None and options_of(attribute).private


def resolve_hints(model: type) -> dict[str, Any]:
    """The resolved annotations of a model class (a TypeError naming what is undefined)."""
    return _resolve_hints(typing.cast("type[Model]", model))


# --- tagged unions, checked when the class is declared ----------------------------------------


def _check_unions(cls: type[Model]) -> None:
    """Refuse a union of models that has no tag now, rather than on the model's first use.

    Only the module's names (and the class itself) are tried, which keeps declaring models
    cheap: annotations naming models defined later, or elsewhere, are checked when the first
    use of ``cls`` compiles its codec, which reports the same errors."""
    own = inspect.get_annotations(cls)
    if not any(_may_hold_union(a) for a in own.values()):
        return
    try:
        # each class of the MRO resolves in its own module's globals
        hints = typing.get_type_hints(cls, None, {cls.__name__: cls}, include_extras=True)
    except (NameError, TypeError):
        return
    for name in own:
        for members in model_unions(hints.get(name), _is_model):
            try:
                member_hints = [_resolve_hints(m) for m in members if _is_model(m)]
            except TypeError:
                continue  # a member names a model defined later: checked on first use
            try:
                refuse_mixed(members, _is_model)
                find_tag(members, member_hints, is_private)
            except TypeError as exc:
                raise TypeError(f"{cls.__name__}.{name}: {exc}") from None


def _may_hold_union(annotation: Any) -> bool:
    """Whether an annotation may name a union of two or more types besides None."""
    text = annotation if isinstance(annotation, str) else repr(annotation)
    if "Union" in text:
        return True
    parts = [p for p in text.split("|") if p.strip(" []") not in ("None", "NoneType")]
    return len(parts) > 1


# --- primary key ---------------------------------------------------------------------------------


def _own_primary_key(cls: type[Model]) -> str | None:
    for name in inspect.get_annotations(cls):
        meta = getattr(cls.__dict__.get(name), "metadata", None)
        if meta is not None and options_of(typing.cast(Any, cls.__dict__[name])).primary_key:
            return name
    inherited: str | None = getattr(cls, "__tbone_pk__", None)
    return inherited


def _ensure_primary_key(cls: type[Model]) -> str:
    found = _own_primary_key(cls)
    if found is not None:
        return found
    own = inspect.get_annotations(cls)
    if "id" in own:
        _promote_to_primary_key(cls)
        return "id"
    cls.__annotations__ = {"id": str, **own}
    cls.id = field(factory=new_id, primary_key=True, read_only=True)  # before attrs sees cls
    return "id"


def _promote_to_primary_key(cls: type[Model]) -> None:
    value = cls.__dict__.get("id", attrs.NOTHING)
    meta = getattr(value, "metadata", None)
    if isinstance(meta, dict):
        meta["tbone"] = attrs.evolve(
            options_of(typing.cast(Any, value)), primary_key=True, unique=True, index=True
        )
    elif value is attrs.NOTHING:
        cls.id = field(primary_key=True)
    else:
        cls.id = field(default=value, primary_key=True)


# --- the codec -----------------------------------------------------------------------------------


def _codec(model: type[Model]) -> _Codec:
    codec = model.__tbone_codec__
    # A subclass sees its parent's codec through inheritance: it needs its own.
    if codec is None or codec.model is not model:
        _compiling.add(model)
        try:
            codec = _Codec.compile(model)
        finally:
            _compiling.discard(model)
        model.__tbone_codec__ = codec
    return codec


# The models whose codecs are being compiled, only while they are (a model nested in itself,
# or in a model it holds, is then called, not written out in the parent's code).
_compiling: set[type] = set()


def _ready_codec(model: type) -> _Codec | None:
    """The codec of a nested model if it compiles now; None while it is being compiled or when
    its annotations do not resolve yet (it is then compiled on its first call)."""
    if model in _compiling or not _is_model(model):
        return None
    try:
        return _codec(model)
    except TypeError:
        return None


def _model_converter(model: type[Model]) -> Converter:
    # Bound on first use, not now: the nested model may refer back to the one being compiled.
    compiled: list[_Codec] = []

    def codec() -> _Codec:
        if not compiled:
            compiled.append(_codec(model))
        return compiled[0]

    def load(v: Any) -> Any:
        return (compiled[0] if compiled else codec()).load(v)

    def dump(v: Any) -> Any:
        return (compiled[0] if compiled else codec()).dump(v)

    def dump_full(v: Any) -> Any:
        return (compiled[0] if compiled else codec()).dump_full(v)

    return Converter(
        load,
        dump,
        {"$ref": f"#/$defs/{model.__name__}"},
        model=model,
        dump_full=dump_full,
        python_type=model,
        inline="model",
    )


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Model)


class _Codec:
    """Compiled load/dump/check functions for one model class (generated by codegen.py)."""

    load: Callable[[Any], Model]
    dump: Callable[[Model], dict[str, Any]]
    dump_full: Callable[[Model], dict[str, Any]]
    check: Callable[[Model], None]

    def __init__(
        self, model: type[Model], fields: dict[str, FieldInfo], nested: list[type[Model]]
    ) -> None:
        self.model = model
        self.fields = fields
        self.nested = nested
        self.computed = _computed_fields(model)
        self.model_validators = _model_validators(model)
        self.field_validators = [(f, v) for f in fields.values() for v in f.options.validators]
        self.has_validators = bool(self.field_validators or self.model_validators)
        #: the generated source of the four functions above, for debugging (see codegen.py)
        self.source = ""

    @classmethod
    def compile(cls, model: type[Model]) -> _Codec:
        hints = _resolve_hints(model)
        nested: list[type[Model]] = []

        def model_converter(tp: type[Model]) -> Converter:
            nested.append(tp)
            return _model_converter(tp)

        builder = Builder(model_converter, _is_model)
        fields: dict[str, FieldInfo] = {}
        for attribute in attrs.fields(typing.cast(Any, model)):
            options = options_of(attribute)
            constraints = None if options.constraints.is_empty() else options.constraints
            try:
                converter = builder.build(hints[attribute.name], constraints)
            except TypeError as exc:
                raise TypeError(f"{model.__name__}.{attribute.name}: {exc}") from None
            default: Any = attribute.default
            factory = default.factory if isinstance(default, _FACTORY) else None
            fields[attribute.name] = FieldInfo(
                name=attribute.name,
                type=hints[attribute.name],
                options=options,
                converter=converter,
                has_default=attribute.default is not attrs.NOTHING,
                default=None
                if factory or attribute.default is attrs.NOTHING
                else attribute.default,
                factory=factory,
            )
        codec = cls(model, fields, nested)
        dumpers = {name: _computed_dumper(model, comp) for name, comp in codec.computed.items()}
        generate(codec, _codec, _ready_codec, dumpers)
        return codec

    def run_validators(self, obj: Model) -> None:
        errors: list[ErrorDetail] = []
        for info, validator in self.field_validators:
            _call_validator(errors, [info.name], validator, obj, info, obj.__dict__[info.name])
        if errors:
            raise Invalid(errors)
        for method in self.model_validators:
            _call_validator(errors, [], method, obj)
        if errors:
            raise Invalid(errors)


def _call_validator(
    errors: list[ErrorDetail], loc: list[str | int], fn: Callable[..., Any], *args: Any
) -> None:
    try:
        fn(*args)
    except ValidationError as exc:
        errors.extend({**e, "loc": [*loc, *e["loc"]]} for e in exc.errors)
    except (ValueError, TypeError) as exc:
        errors.append(
            {"loc": list(loc), "msg": str(exc) or type(exc).__name__, "type": "value_error"}
        )


def _resolve_hints(model: type[Model]) -> dict[str, Any]:
    try:
        # Each class in the MRO resolves against its own module; the namespace fills in models
        # defined elsewhere (or inside functions) that string annotations refer to.
        return typing.get_type_hints(model, localns=_resolve_namespace(model), include_extras=True)
    except NameError as exc:
        raise TypeError(
            f"cannot resolve the annotations of {model.__name__}: {exc}; define the referenced "
            "model at module level or before the first use of this model"
        ) from exc


def _computed_fields(model: type[Model]) -> dict[str, computed[Any]]:
    found: dict[str, computed[Any]] = {}
    for klass in reversed(model.__mro__):
        found.update((k, v) for k, v in vars(klass).items() if isinstance(v, computed))
    return found


def _model_validators(model: type[Model]) -> list[Callable[[Model], None]]:
    seen: dict[str, Callable[[Model], None]] = {}
    for klass in reversed(model.__mro__):
        seen.update((k, v) for k, v in vars(klass).items() if is_model_validator(v))
    return [getattr(model, name) for name in seen]


def _computed_dumper(model: type[Model], comp: computed[Any]) -> Callable[[Model], Any]:
    hints = typing.get_type_hints(comp.fn, localns=_resolve_namespace(model), include_extras=True)
    returns = hints.get("return")
    getter = comp.fn
    if returns is None:
        return getter
    conv = Builder(_model_converter, _is_model).build(returns)
    dump = conv.dump
    if dump is None:
        return getter
    return lambda obj: dump(getter(obj))


def _resolve_namespace(model: type[Model]) -> dict[str, Any]:
    """Names a model's string annotations may use, as Python scoping would have them: models
    defined in the same function or class as ``model`` first, then its module's globals, then
    models elsewhere by class name. Each name binds to the model defined nearest to ``model``;
    a name two equally near models share is left out rather than bound to whichever was
    defined last, so that using it is an error."""
    module = sys.modules.get(model.__module__)
    # items() iterates safely while the garbage collector drops models from the weak mapping
    by_name: dict[str, list[type[Model]]] = {}
    for candidate in dict(_known_models.items()).values():
        by_name.setdefault(candidate.__name__, []).append(candidate)
    enclosed: dict[str, Any] = {}
    elsewhere: dict[str, Any] = {}
    for name, candidates in by_name.items():
        found, depth = _nearest(model, candidates)
        if found is not None:
            (enclosed if depth > 1 else elsewhere)[name] = found
    globals_ = vars(module) if module else {}
    return {**elsewhere, **globals_, **enclosed, model.__name__: model}


def _scope(model: type[Model]) -> list[str]:
    return [model.__module__, *model.__qualname__.split(".")[:-1]]


def _shared(a: list[str], b: list[str]) -> int:
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count


def _nearest(model: type[Model], candidates: list[type[Model]]) -> tuple[type[Model] | None, int]:
    """The candidate sharing the longest scope (module, enclosing names) with ``model``, and
    how long that is; ``None`` when two share it equally."""
    here = _scope(model)
    ranked = sorted(((_shared(here, _scope(c)), c) for c in candidates), key=lambda p: -p[0])
    if len(ranked) > 1 and ranked[0][0] == ranked[1][0]:
        return None, 0
    return ranked[0][1], ranked[0][0]
