"""Redis for TBone: event channels (``redis://`` pub/sub, ``redis+streams://`` with history)
and a document store (``redis://``).

>>> from tbone import API
>>> api = API(
...     stores="redis://localhost:6379/0", channel="redis+streams://localhost:6379/0"
... )  # doctest: +SKIP

The classes are found through entry points (``tbone.channels``: ``redis``, ``rediss``,
``redis+streams``, ``rediss+streams``; ``tbone.backends``: ``redis``, ``rediss``); nothing
here needs importing by hand. Attributes are imported lazily so that ``import tbone_redis`` (and
the pytest plugin ``tbone_redis.testing``) does not import the redis driver.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._channel import RedisChannel
    from ._store import RedisStore
    from ._streams import RedisStreamsChannel

__version__ = "0.1.0"

__all__ = ["RedisChannel", "RedisStore", "RedisStreamsChannel"]


def __getattr__(name: str) -> Any:
    if name == "RedisChannel":
        from ._channel import RedisChannel

        return RedisChannel
    if name == "RedisStore":
        from ._store import RedisStore

        return RedisStore
    if name == "RedisStreamsChannel":
        from ._streams import RedisStreamsChannel

        return RedisStreamsChannel
    raise AttributeError(f"module 'tbone_redis' has no attribute {name!r}")
