"""``Lifecycle``: the one async lifecycle of everything that holds a connection."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["Lifecycle"]


class Lifecycle:
    """``async with thing:`` opens it and ``aclose()``-s it, whatever happens inside."""

    async def open(self) -> None:
        """Connect or acquire; called on entering ``async with``. Default: nothing to do."""

    async def aclose(self) -> None:
        """Release; called on leaving ``async with``. Must be safe to call twice."""

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
