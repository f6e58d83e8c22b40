"""The public surface: a sorted, complete ``__all__`` in the package and in tbone_asgi.django."""

from __future__ import annotations

import types

import tbone_asgi
import tbone_asgi.django


def _public(module: types.ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith("tbone_asgi")
        and not isinstance(value, types.ModuleType)
    }


def test_all_is_sorted_and_complete() -> None:
    for module in (tbone_asgi, tbone_asgi.django):
        assert module.__all__ == sorted(module.__all__)
        assert set(module.__all__) == _public(module), module.__name__
    assert tbone_asgi.__version__ == "0.1.0"
