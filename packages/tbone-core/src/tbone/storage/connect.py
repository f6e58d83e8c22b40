"""``tbone.connect``: a store from a URL, through the plugin registry."""

from __future__ import annotations

from tbone import plugins

from .store import Store

__all__ = ["connect"]


def connect(url_or_store: str | Store) -> Store:
    """The store for ``url_or_store``: a URL's scheme names the backend plugin.

    >>> import tbone
    >>> tbone.connect("memory://")  # doctest: +ELLIPSIS
    <tbone.storage.memory.MemoryStore object at ...>

    A :class:`Store` is returned as it is. Raises :class:`tbone.PluginNotFound` naming the
    scheme, what is installed and how to install it.
    """
    if isinstance(url_or_store, Store):
        return url_or_store
    cls = plugins.load("backend", plugins.scheme_of(url_or_store))
    store = cls.from_url(url_or_store)
    if not isinstance(store, Store):
        raise TypeError(f"{cls!r}.from_url() returned {type(store).__name__}, not a tbone Store")
    return store
