"""What the conformance kits (stores, channels, realtime) share: a base class's subclass gets
one ``test_<name>`` per behaviour, and ``skip`` may only name behaviours that exist."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = ["install_tests", "named_test", "registrar"]

F = TypeVar("F", bound=Callable[..., Any])


def registrar(registry: dict[str, F], kind: str) -> Callable[[str], Callable[[F], F]]:
    """A decorator factory that files behaviours in ``registry`` by name (each name once)."""

    def register(name: str) -> Callable[[F], F]:
        def wrap(fn: F) -> F:
            if name in registry:
                raise ValueError(f"two {kind} behaviours are named {name!r}")
            registry[name] = fn
            return fn

        return wrap

    return register


def install_tests(
    cls: type, behaviours: Mapping[str, Any], test_for: Callable[[str, Any], Callable[..., None]]
) -> None:
    """Give ``cls`` a ``test_<name>`` made by ``test_for(name, behaviour)`` for each behaviour
    it does not define itself; ``TypeError`` when its ``skip`` names an unknown one."""
    skip: Mapping[str, str] = getattr(cls, "skip", {})
    unknown = sorted(set(skip) - set(behaviours))
    if unknown:
        raise TypeError(
            f"{cls.__name__}.skip names unknown behaviours: {', '.join(unknown)}; "
            f"known: {', '.join(sorted(behaviours))}"
        )
    for name, behaviour in behaviours.items():
        if f"test_{name}" not in cls.__dict__:
            setattr(cls, f"test_{name}", test_for(name, behaviour))


def named_test(name: str, doc: str | None, test: Callable[..., None]) -> Callable[..., None]:
    """``test``, named ``test_<name>`` for pytest, with the behaviour's docstring."""
    test.__name__ = f"test_{name}"
    test.__doc__ = doc
    return test
