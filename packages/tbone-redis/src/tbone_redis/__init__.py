"""Redis for TBone: ``redis://`` / ``rediss://`` event channel and document store.

>>> from tbone import API
>>> api = API(
...     stores="redis://localhost:6379/0", channel="redis://localhost:6379/0"
... )  # doctest: +SKIP

The classes are found through the ``redis`` and ``rediss`` entry points of ``tbone.channels``
and ``tbone.backends``; nothing here needs importing by hand. Attributes are imported lazily so
that ``import tbone_redis`` (and the pytest plugin ``tbone_redis.testing``) does not import the
redis driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._channel import RedisChannel
    from ._store import RedisStore

__version__ = "0.1.0"

__all__ = ["RedisChannel", "RedisStore"]


def __getattr__(name: str) -> Any:
    if name == "RedisChannel":
        from ._channel import RedisChannel

        return RedisChannel
    if name == "RedisStore":
        from ._store import RedisStore

        return RedisStore
    raise AttributeError(f"module 'tbone_redis' has no attribute {name!r}")
