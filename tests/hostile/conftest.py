"""The matrix the hostile corpus runs on: every adapter x every store in this repository.

:data:`STORES` is the one place a store joins the matrix: a name and a function giving the URL
of a fresh, empty store for one server. ``mongodb`` joins by itself when a ``mongo_server``
fixture exists (tbone-mongo's pytest plugin). One server is started per (adapter, store) and
module, and every case of the module reuses it (each case resets the data it left behind).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tbone import plugins
from tbone.testing.transport import LiveServer

from .app import build_api
from .target import Target

ADAPTERS = ("aiohttp", "sanic", "asgi")

StoreURL = Callable[[pytest.FixtureRequest, Path], str]


def _memory(request: pytest.FixtureRequest, folder: Path) -> str:
    return "memory://"


def _sqlite(request: pytest.FixtureRequest, folder: Path) -> str:
    return f"sqlite:///{folder / 'hostile.db'}"


def _redis(request: pytest.FixtureRequest, folder: Path) -> str:
    server = request.getfixturevalue("redis_server")
    return f"{server.url}?prefix=hostile-{uuid.uuid4().hex}:"


def _mongodb(request: pytest.FixtureRequest, folder: Path) -> str:
    server = request.getfixturevalue("mongo_server")
    url: str = getattr(server, "url", server)
    base, _, query = url.partition("?")
    database = f"hostile_{uuid.uuid4().hex[:12]}"
    return f"{base.rstrip('/')}/{database}" + (f"?{query}" if query else "")


#: store name -> URL of a fresh store (the plugin must be installed; mongodb needs its fixture)
STORES: dict[str, StoreURL] = {
    "memory": _memory,
    "sqlite": _sqlite,
    "redis": _redis,
    "mongodb": _mongodb,
}
_SCHEMES = {"memory": "memory", "sqlite": "sqlite", "redis": "redis", "mongodb": "mongodb"}
_FIXTURES = {"redis": "redis_server", "mongodb": "mongo_server"}


def _has_fixture(metafunc: pytest.Metafunc, name: str) -> bool:
    manager: Any = metafunc.config.pluginmanager.get_plugin("funcmanage")
    return bool(manager.getfixturedefs(name, metafunc.definition))


def store_names(metafunc: pytest.Metafunc) -> list[str]:
    """The stores of :data:`STORES` whose plugin is installed (and fixture, where needed)."""
    installed = {info.name for info in plugins.available("backend")}
    names = []
    for name in STORES:
        fixture = _FIXTURES.get(name)
        if fixture == "mongo_server" and not _has_fixture(metafunc, fixture):
            continue  # tbone-mongo is optional here: it joins once its fixture exists
        if _SCHEMES[name] in installed:
            names.append(name)
    return names


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "hostile_store" in metafunc.fixturenames:
        # a module about one layer only (the transport) may name the stores it runs on
        only = getattr(metafunc.module, "HOSTILE_STORES", None)
        names = [n for n in store_names(metafunc) if only is None or n in only]
        metafunc.parametrize("hostile_store", names, scope="module")
    if "hostile_adapter" in metafunc.fixturenames:
        metafunc.parametrize("hostile_adapter", ADAPTERS, scope="module")


@pytest.fixture(scope="module")
def target(
    request: pytest.FixtureRequest,
    hostile_adapter: str,
    hostile_store: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Target]:
    """A live server of the hostile API, its data reset to the seed."""
    folder = tmp_path_factory.mktemp(f"hostile-{hostile_adapter}-{hostile_store}")
    url = STORES[hostile_store](request, folder)
    with (
        LiveServer(hostile_adapter, build_api(url)) as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        found = Target(hostile_adapter, hostile_store, server, http)
        found.reset()
        yield found
