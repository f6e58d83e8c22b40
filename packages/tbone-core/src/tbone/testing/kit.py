"""``StoreConformance``: the store conformance kit as a base class of pytest test classes.

Subclass it, implement ``make_store``, and pytest collects one ``test_<behaviour>`` per named
behaviour. Behaviours needing a capability the store does not declare are skipped, as are the
names in ``skip``; the plugin lists every skip at the end of the run. Tests are synchronous and run
their own event loop, so the kit works whatever pytest-asyncio mode the project uses.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest

from tbone.storage import Store

from .plugin import SKIP_PREFIX
from .suites import install_tests, named_test

__all__ = ["Behaviour", "StoreConformance", "behaviour", "behaviours"]

MakeStore = Callable[[], Awaitable[Store]]


@attrs.frozen
class Behaviour:
    """One named behaviour: ``run(store)`` (or ``run(make_store)`` for ``fresh`` ones)."""

    name: str
    run: Callable[..., Awaitable[None]] | Callable[..., None]
    requires: frozenset[str] = frozenset()
    fresh: bool = False
    """Sync and given a store factory: differential tests that need a new store per example."""


def behaviour(
    name: str, *, requires: str | None = None, fresh: bool = False
) -> Callable[[Callable[..., Any]], Behaviour]:
    """Declare a kit behaviour (used by the kit's own modules)."""

    def wrap(fn: Callable[..., Any]) -> Behaviour:
        needs = frozenset({requires}) if requires else frozenset()
        return Behaviour(name, fn, needs, fresh)

    return wrap


def behaviours() -> tuple[Behaviour, ...]:
    """Every behaviour of the kit, in a stable order."""
    from . import storecrud, storeops, storeprops, storequery

    found = [
        *storecrud.BEHAVIOURS,
        *storequery.BEHAVIOURS,
        *storeops.BEHAVIOURS,
        *storeprops.BEHAVIOURS,
    ]
    return tuple(found)


class StoreConformance:
    """Base class of a store's conformance tests.

    Set ``skip = {"behaviour_name": "why"}`` to opt out of behaviours by name.
    """

    skip: ClassVar[Mapping[str, str]] = {}

    async def make_store(self, tmp_path: Path) -> Store:
        """A new, empty store (unopened; the kit opens and closes it)."""
        raise NotImplementedError("implement make_store(self, tmp_path) in your test class")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        install_tests(cls, {b.name: b for b in behaviours()}, lambda name, b: _test_for(b))

    def run_behaviour(self, b: Behaviour, tmp_path: Path) -> None:
        if b.name in self.skip:
            pytest.skip(f"{SKIP_PREFIX}{b.name}: {self.skip[b.name]}")
        if b.fresh:
            self._check_capabilities(b, tmp_path)
            b.run(self._factory(tmp_path))
            return
        missing = asyncio.run(self._run_async(b, tmp_path))
        if missing:
            pytest.skip(f"{SKIP_PREFIX}{b.name}: store lacks capability {', '.join(missing)}")

    async def _run_async(self, b: Behaviour, tmp_path: Path) -> list[str]:
        store = await self.make_store(tmp_path)
        missing = sorted(b.requires - store.capabilities)
        if missing:
            await store.aclose()
            return missing
        async with store:
            await b.run(store)  # type: ignore[misc]  # non-fresh behaviours are coroutines
        return []

    def _check_capabilities(self, b: Behaviour, tmp_path: Path) -> None:
        if b.requires:
            missing = asyncio.run(
                self._run_async(Behaviour(b.name, _nothing, b.requires), tmp_path)
            )
            if missing:
                pytest.skip(f"{SKIP_PREFIX}{b.name}: store lacks capability {', '.join(missing)}")

    def _factory(self, tmp_path: Path) -> MakeStore:
        async def make() -> Store:
            return await self.make_store(Path(tempfile.mkdtemp(dir=tmp_path)))

        return make


async def _nothing(store: Store) -> None:
    return None


def _test_for(b: Behaviour) -> Callable[[StoreConformance, Path], None]:
    def test(self: StoreConformance, tmp_path: Path) -> None:
        self.run_behaviour(b, tmp_path)

    return named_test(b.name, getattr(b.run, "__doc__", None), test)
