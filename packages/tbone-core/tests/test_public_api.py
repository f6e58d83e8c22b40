"""The public surface: ``tbone.__all__`` is sorted, importable and complete."""

from __future__ import annotations

import importlib
import types

import pytest

import tbone


def _isort_key(name: str) -> tuple[int, str]:
    """Constants, then classes, then functions: the order ruff's RUF022 keeps ``__all__`` in."""
    if len(name) > 1 and name.isupper():
        return (0, name)
    return (1 if name[0].isupper() else 2, name)


PACKAGES = ["tbone", "tbone.data", "tbone.storage", "tbone.resources", "tbone.http"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_importable(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_key), f"{name}.__all__ is not sorted"
    for attr in exported:
        assert hasattr(module, attr), f"{name}.{attr} is listed but missing"


@pytest.mark.parametrize("name", PACKAGES)
def test_everything_public_is_listed(name: str) -> None:
    module = importlib.import_module(name)
    public = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public - set(module.__all__) == set(), f"{name} exposes names missing from __all__"


def test_version_is_exposed() -> None:
    assert tbone.__version__
