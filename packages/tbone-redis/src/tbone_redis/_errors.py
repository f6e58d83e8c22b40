"""The one place where redis driver errors become TBone errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

from redis.exceptions import AskError, RedisClusterException, RedisError, TryAgainError

from tbone.errors import ChannelUnavailable, StoreUnavailable, ValidationError

__all__ = ["DRIVER_ERRORS", "channel_errors", "safe_url", "store_errors"]

# What the driver raises when the server is away: its own errors (a cluster it cannot reach
# raises RedisClusterException, which is not a RedisError), and socket errors it lets through.
DRIVER_ERRORS: tuple[type[Exception], ...] = (RedisError, RedisClusterException, OSError)


def safe_url(url: str) -> str:
    """``url`` without its password, fit for error messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


@contextmanager
def channel_errors(url: str, doing: str) -> Iterator[None]:
    """Re-raise driver errors met while ``doing`` something as ``ChannelUnavailable``."""
    try:
        yield
    except DRIVER_ERRORS as exc:
        raise ChannelUnavailable(
            f"redis channel {safe_url(url)}: could not {doing}: {exc}. "
            "Check that redis-server is running and reachable at that URL."
        ) from exc


@contextmanager
def store_errors(url: str, doing: str) -> Iterator[None]:
    """Re-raise driver errors met while ``doing`` something as ``StoreUnavailable``."""
    try:
        yield
    except UnicodeEncodeError as exc:  # redis-py sends texts as UTF-8: no lone surrogates
        msg = f"a text holds a lone UTF-16 surrogate, which Redis cannot store: {exc}"
        raise ValidationError.single([], msg, "surrogate") from exc
    except DRIVER_ERRORS as exc:
        raise StoreUnavailable(
            f"redis store {safe_url(url)}: could not {doing}: {exc}. {_advice(exc)}"
        ) from exc


def _advice(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, AskError | TryAgainError) or "non local key" in text:
        # a script reaching its collection's index keys while their slot changes node
        return (
            "The collection's Redis Cluster slot is migrating to another node: nothing was "
            "written; retry once the resharding is done."
        )
    return "Check that redis-server is running and reachable at that URL."
