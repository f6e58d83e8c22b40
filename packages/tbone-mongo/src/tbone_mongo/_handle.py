"""One face over the two database handles the store accepts: PyMongo's ``AsyncDatabase`` and
Motor's ``AsyncIOMotorDatabase``. They share most of their API; sessions, transactions and
change streams are where they differ, and only this module knows how.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions

__all__ = ["Handle"]

_CODEC: CodecOptions[dict[str, Any]] = CodecOptions(
    tz_aware=True, uuid_representation=UuidRepresentation.STANDARD
)


class Handle:
    """A database handle with TBone's codec options (timezone-aware dates, standard UUIDs)."""

    def __init__(self, database: Any) -> None:
        self.motor = type(database).__module__.startswith("motor")
        self.db: Any = database.with_options(codec_options=_CODEC)
        self.client: Any = database.client
        self.name: str = database.name

    def collection(self, name: str) -> Any:
        return self.db[name]

    async def command(self, *args: Any, **kwargs: Any) -> Mapping[str, Any]:
        result: Mapping[str, Any] = await self.db.command(*args, **kwargs)
        return result

    async def in_transaction(self, work: Callable[[Any], Awaitable[None]]) -> None:
        """Run ``work(session)`` in one transaction: all of its writes or none."""
        if self.motor:
            async with (
                await self.client.start_session() as session,
                session.start_transaction(),
            ):
                await work(session)
            return
        async with self.client.start_session() as session, await session.start_transaction():
            await work(session)

    @asynccontextmanager
    async def watch(
        self, pipeline: Sequence[Mapping[str, Any]], **options: Any
    ) -> AsyncIterator[Any]:
        """A change stream on the database (PyMongo's is awaited, Motor's is not)."""
        stream = self.db.watch(list(pipeline), **options)
        if not self.motor:
            stream = await stream
        try:
            yield stream
        finally:
            await stream.close()
