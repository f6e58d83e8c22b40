"""Find the store, channel and transport classes that plugins provide.

Three kinds of plugin, each an entry-point group, looked up by name::

    kind          entry-point group     name                               object
    "backend"     tbone.backends        URL scheme (sqlite, mongodb, ...)  store class
    "channel"     tbone.channels        URL scheme (memory, redis, ...)    channel class
    "transport"   tbone.transports      server name (sanic, aiohttp)       transport class

A name is looked up in this order, first match wins:

1. objects registered in this process with :func:`register` (for tests and applications);
2. the built-ins that ship with tbone-core (the ``memory`` store and channel);
3. installed entry points, scanned on first use and cached for the life of the process
   (:func:`clear_cache` forgets them, e.g. after installing a distribution at run time).

Nothing is imported or scanned when this module is imported.

Every plugin object declares the plugin API it was written for, as a class attribute::

    class CouchStore(Store):
        tbone_plugin_api = 1

and is refused with :class:`~tbone.errors.IncompatiblePlugin` when that is not :data:`PLUGIN_API`.
Core base classes deliberately do not define ``tbone_plugin_api``: a plugin inheriting core's
number would claim compatibility with whatever core it happens to run on.

>>> import tbone.plugins
>>> tbone.plugins.scheme_of("sqlite:///books.db")
'sqlite'
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Literal, get_args

from tbone.errors import IncompatiblePlugin, PluginError, PluginNotFound

__all__ = [
    "KINDS",
    "PLUGIN_API",
    "Kind",
    "PluginInfo",
    "Registration",
    "available",
    "clear_cache",
    "load",
    "register",
    "scheme_of",
]

PLUGIN_API: Final = 1
"""The plugin API major version this tbone-core speaks; plugins declare ``tbone_plugin_api``."""

Kind = Literal["backend", "channel", "transport"]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)

Source = Literal["registered", "builtin", "entry point"]

_GROUPS: Final[dict[Kind, str]] = {
    "backend": "tbone.backends",
    "channel": "tbone.channels",
    "transport": "tbone.transports",
}

# What a person calls each kind in an error message.
_NOUNS: Final[dict[Kind, str]] = {
    "backend": "store",
    "channel": "channel",
    "transport": "transport",
}

# Referenced by import path so that importing tbone.plugins imports neither module.
_BUILTINS: Final[dict[Kind, dict[str, str]]] = {
    "backend": {"memory": "tbone.storage.memory:MemoryStore"},
    "channel": {"memory": "tbone.channel.memory:MemoryChannel"},
    "transport": {},
}

# The tbone-core extra that installs the plugin for a well-known name.
_EXTRAS: Final[dict[Kind, dict[str, str]]] = {
    "backend": {
        "sqlite": "sqlite",
        "mongodb": "mongo",
        "mongodb+srv": "mongo",
        "redis": "redis",
        "rediss": "redis",
    },
    "channel": {"redis": "redis", "rediss": "redis"},
    "transport": {"sanic": "sanic", "aiohttp": "aiohttp"},
}

_CORE_DISTRIBUTION: Final = "tbone-core"
_SCHEME = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://")


@dataclass(frozen=True, slots=True)
class PluginInfo:
    """One plugin that :func:`load` could return, as listed by :func:`available`."""

    kind: Kind
    name: str
    target: str
    """Where the object lives, as ``module:qualname``."""
    distribution: str | None
    """The installed distribution providing it; ``None`` for objects registered at run time."""
    version: str | None
    source: Source


class Registration(AbstractContextManager["Registration"]):
    """Handle returned by :func:`register`; :meth:`undo` (or leaving the ``with``) removes it."""

    def __init__(self, registry: PluginRegistry, kind: Kind, name: str, obj: object) -> None:
        self._registry = registry
        self.kind = kind
        self.name = name
        self.obj = obj

    def undo(self) -> None:
        """Remove this registration; a registration it shadowed becomes visible again."""
        self._registry._unregister(self)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.undo()


@dataclass(frozen=True, slots=True)
class _Candidate:
    info: PluginInfo
    entry_point: importlib.metadata.EntryPoint | None = None


class PluginRegistry:
    """Registered objects, the built-ins, and a lazily scanned cache of entry points.

    The module-level functions use one shared instance; tests may build their own.
    """

    def __init__(self) -> None:
        self._registered: dict[tuple[Kind, str], list[Registration]] = {}
        self._scanned: dict[Kind, list[_Candidate]] | None = None
        self._loaded: dict[tuple[Kind, str], object] = {}
        self._lock = threading.Lock()

    # -- registration -------------------------------------------------------------------------

    def register(self, kind: Kind, name: str, obj: object) -> Registration:
        _check_kind(kind)
        handle = Registration(self, kind, name, obj)
        self._registered.setdefault((kind, name), []).append(handle)
        return handle

    def _unregister(self, handle: Registration) -> None:
        stack = self._registered.get((handle.kind, handle.name), [])
        if handle in stack:
            stack.remove(handle)

    # -- lookup -------------------------------------------------------------------------------

    def load(self, kind: Kind, name: str) -> Any:
        _check_kind(kind)
        stack = self._registered.get((kind, name))
        if stack:
            handle = stack[-1]
            _check_api(_registered_info(handle), handle.obj)
            return handle.obj
        key = (kind, name)
        if key not in self._loaded:
            self._loaded[key] = self._resolve(kind, name)
        return self._loaded[key]

    def _resolve(self, kind: Kind, name: str) -> object:
        candidates = [c for c in self._candidates(kind) if c.info.name == name]
        if not candidates:
            raise PluginNotFound(self._not_found_message(kind, name))
        _check_unambiguous(candidates)
        obj = _import(candidates[0])
        _check_api(candidates[0].info, obj)
        return obj

    def available(self, kind: Kind | None = None) -> list[PluginInfo]:
        kinds = KINDS if kind is None else (_check_kind(kind),)
        infos: list[PluginInfo] = []
        for k in kinds:
            for (reg_kind, _), stack in sorted(self._registered.items()):
                if reg_kind == k and stack:
                    infos.append(_registered_info(stack[-1]))
            infos.extend(c.info for c in self._candidates(k))
        return infos

    def clear_cache(self) -> None:
        with self._lock:
            self._scanned = None
            self._loaded.clear()
        importlib.invalidate_caches()

    # -- discovery ----------------------------------------------------------------------------

    def _candidates(self, kind: Kind) -> list[_Candidate]:
        """Built-ins then entry points for ``kind``, in lookup order."""
        with self._lock:
            if self._scanned is None:
                self._scanned = _scan()
            return self._scanned[kind]

    def _not_found_message(self, kind: Kind, name: str) -> str:
        installed = sorted({info.name for info in self.available(kind)})
        wanted = f"named '{name}'" if kind == "transport" else f"for '{name}://'"
        listing = ", ".join(installed) or "none"
        return f"no {_NOUNS[kind]} {wanted}; installed: {listing}. {_install_hint(kind, name)}"


def _scan() -> dict[Kind, list[_Candidate]]:
    core_version = _core_version()
    scanned: dict[Kind, list[_Candidate]] = {}
    for kind in KINDS:
        candidates = [
            _Candidate(PluginInfo(kind, name, target, _CORE_DISTRIBUTION, core_version, "builtin"))
            for name, target in sorted(_BUILTINS[kind].items())
        ]
        candidates.extend(_entry_point_candidates(kind))
        scanned[kind] = candidates
    return scanned


def _entry_point_candidates(kind: Kind) -> Iterator[_Candidate]:
    seen: set[tuple[str, str | None]] = set()
    for ep in importlib.metadata.entry_points(group=_GROUPS[kind]):
        dist_name, version = _distribution_of(ep)
        # A distribution found twice on sys.path (e.g. editable + installed) counts once, like
        # an import would: the first one wins.
        if (ep.name, dist_name) in seen:
            continue
        seen.add((ep.name, dist_name))
        info = PluginInfo(kind, ep.name, ep.value, dist_name, version, "entry point")
        yield _Candidate(info, ep)


def _distribution_of(ep: importlib.metadata.EntryPoint) -> tuple[str | None, str | None]:
    dist = ep.dist
    if dist is None:
        return None, None
    return dist.metadata["Name"] or dist.name, dist.version


def _core_version() -> str | None:
    try:
        return importlib.metadata.version(_CORE_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        return None


def _registered_info(handle: Registration) -> PluginInfo:
    return PluginInfo(handle.kind, handle.name, _target_of(handle.obj), None, None, "registered")


def _target_of(obj: object) -> str:
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if module and qualname:
        return f"{module}:{qualname}"
    return repr(obj)


def _import(candidate: _Candidate) -> object:
    info = candidate.info
    try:
        if candidate.entry_point is not None:
            return candidate.entry_point.load()
        return _import_target(info.target)
    except Exception as exc:
        # Anything raised while importing a plugin is the plugin's fault, not the caller's.
        raise PluginError(
            f"the {_NOUNS[info.kind]} plugin '{info.name}' ({info.target}) from "
            f"{_describe_distribution(info)} failed to import: {type(exc).__name__}: {exc}. "
            f"{_repair_hint(info)}"
        ) from exc


def _repair_hint(info: PluginInfo) -> str:
    if info.source == "builtin":
        return "This is a bug in tbone-core: reinstall it, and report it if that does not help."
    owner = info.distribution or "the package that provides it"
    return f"Reinstall or upgrade {owner}, or uninstall it if you do not use it."


def _import_target(target: str) -> object:
    module_name, _, qualname = target.partition(":")
    obj: object = importlib.import_module(module_name)
    for attr in qualname.split("."):
        obj = getattr(obj, attr)
    return obj


def _check_unambiguous(candidates: list[_Candidate]) -> None:
    # Built-ins shadow entry points by design; two entry points for one name are a conflict.
    if candidates[0].info.source == "builtin":
        return
    if len(candidates) > 1:
        info = candidates[0].info
        owners = ", ".join(_describe_distribution(c.info) for c in candidates)
        raise PluginError(
            f"several distributions provide the {_NOUNS[info.kind]} plugin '{info.name}': "
            f"{owners}. Uninstall all but one, or choose one with tbone.plugins.register()."
        )


def _check_api(info: PluginInfo, obj: object) -> None:
    declared = getattr(obj, "tbone_plugin_api", None)
    if type(declared) is int and declared == PLUGIN_API:
        return
    raise IncompatiblePlugin(_incompatible_message(info, declared))


def _incompatible_message(info: PluginInfo, declared: object) -> str:
    who = (
        f"the {_NOUNS[info.kind]} plugin '{info.name}' ({info.target}) "
        f"from {_describe_distribution(info)}"
    )
    core = f"tbone-core {_core_version() or '(source tree)'} speaks plugin API {PLUGIN_API}"
    owner = info.distribution or "the plugin"
    if declared is None:
        return (
            f"{who} does not declare tbone_plugin_api; {core}. Upgrade {owner} to a release "
            f"written for tbone-core, or add `tbone_plugin_api = {PLUGIN_API}` to the class "
            "if you maintain it."
        )
    if type(declared) is int and declared > PLUGIN_API:
        action = f"Upgrade tbone-core (pip install -U tbone-core), or install an older {owner}"
    else:
        action = f"Upgrade {owner} (pip install -U {owner})"
    return f"{who} was written for plugin API {declared!r}, but {core}. {action}."


def _describe_distribution(info: PluginInfo) -> str:
    if info.distribution is None:
        return "a run-time registration" if info.source == "registered" else "an unknown package"
    return f"{info.distribution} {info.version or '(unknown version)'}"


def _install_hint(kind: Kind, name: str) -> str:
    extra = _EXTRAS[kind].get(name)
    if extra is not None:
        return f'Install it with: pip install "tbone-core[{extra}]"'
    return (
        f"Install a package that provides a '{_GROUPS[kind]}' entry point named '{name}' "
        "(run `tbone plugins` to list what is installed)."
    )


def _check_kind(kind: str) -> Kind:
    if kind not in _GROUPS:
        raise ValueError(f"unknown plugin kind {kind!r}; expected one of {', '.join(KINDS)}")
    return kind


def scheme_of(url: str) -> str:
    """The lower-cased scheme of a store or channel URL.

    >>> scheme_of("mongodb+srv://user@cluster.example/db")
    'mongodb+srv'

    Raises :class:`~tbone.errors.PluginError` when ``url`` is not of the form ``scheme://...``.
    """
    match = _SCHEME.match(url)
    if match is None:
        raise PluginError(
            f"malformed URL {url!r}: expected 'scheme://...', "
            "e.g. 'memory://', 'sqlite:///books.db' or 'redis://localhost:6379/0'"
        )
    return match["scheme"].lower()


_registry = PluginRegistry()


def register(kind: Kind, name: str, obj: object) -> Registration:
    """Make ``obj`` the plugin for ``name``, ahead of built-ins and entry points.

    Returns a handle; use it as a context manager (or call ``undo()``) to remove it::

        with tbone.plugins.register("backend", "fake", FakeStore):
            store = tbone.connect("fake://")
    """
    return _registry.register(kind, name, obj)


def load(kind: Kind, name: str) -> Any:
    """The plugin object (normally a class) of ``kind`` for ``name``.

    ``load("backend", "sqlite")`` returns the class of the ``sqlite://`` store.

    Raises :class:`~tbone.errors.PluginNotFound` when nothing provides it,
    :class:`~tbone.errors.IncompatiblePlugin` when it was written for another plugin API, and
    :class:`~tbone.errors.PluginError` when it cannot be imported.
    """
    return _registry.load(kind, name)


def available(kind: Kind | None = None) -> list[PluginInfo]:
    """Every plugin of ``kind`` (all kinds if ``None``), in lookup order, without importing any."""
    return _registry.available(kind)


def clear_cache() -> None:
    """Forget scanned entry points and loaded plugins; the next lookup scans again."""
    _registry.clear_cache()
