"""Run an awaitable in the caller up to its first wait; finish it in a task only if it waits.

A WebSocket send on aiohttp or Sanic writes to the socket's transport and returns without
waiting, unless the transport is paused because the client does not read. Awaiting each one
in a writer task per connection costs a task wake-up per frame (most of a fan-out to many
sockets) and a task per idle connection; running it here costs a function call::

    rest = start(ws.send_str(text))
    if rest is not None:  # it waits (back-pressure): a task awaits the rest
        asyncio.ensure_future(send_the_rest(rest))
"""

from __future__ import annotations

from collections.abc import Awaitable, Coroutine, Generator
from types import CoroutineType
from typing import Any, TypeVar

__all__ = ["Rest", "start"]

T = TypeVar("T")


class Rest(Awaitable[T]):
    """What is left of an awaitable that waited: awaiting it hands the task the awaitable's
    first wait (the future it yielded), then runs the rest as ``await`` would."""

    __slots__ = ("_steps", "_yielded")

    def __init__(
        self, steps: Coroutine[Any, Any, T] | Generator[Any, Any, T], yielded: Any
    ) -> None:
        self._steps = steps
        self._yielded = yielded

    def __await__(self) -> Generator[Any, Any, T]:
        steps, yielded = self._steps, self._yielded
        while True:
            try:
                sent = yield yielded
            except GeneratorExit:
                steps.close()
                raise
            except BaseException as exc:  # thrown in by the task: cancellation, mostly
                try:
                    yielded = steps.throw(exc)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]  # the awaitable's result
            else:
                try:
                    yielded = steps.send(sent)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]  # the awaitable's result


def start(awaitable: Awaitable[T]) -> Rest[T] | None:
    """Run ``awaitable`` until it first waits: None if it finished without waiting, else what
    is left of it, to await in a task. An exception it raises before waiting is raised here."""
    # a coroutine steps itself (the usual case: no wrapper to make)
    steps = awaitable if type(awaitable) is CoroutineType else awaitable.__await__()
    try:
        yielded = steps.send(None)
    except StopIteration:
        return None
    return Rest(steps, yielded)
