"""``LiveSubscription``: what one client's subscription sees, and which event a write is to it.

A subscription's view is its filter ∩ the resource's scope for its subscriber (∩ what its
permissions allow, checked by the hub on the object). A write is, to each subscription:

| before the write | after it  | event                          |
|------------------|-----------|--------------------------------|
| (created)        | in view   | ``created``                    |
| in view          | in view   | ``updated``                    |
| out of view      | in view   | ``entered`` (with the data)    |
| in view          | out       | ``left`` (the key only)        |
| in view          | (deleted) | ``deleted`` (last data)        |

When the hub does not know the document before an update (an outside write with no
pre-image), an update in view is ``updated`` and one out of view sends nothing.

While a snapshot or a replay is being prepared the subscription **holds** its live events
(:meth:`hold` / :meth:`release`), so that none is lost or sent twice across the hand-off.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import attrs

from ..storage.matcher import matches
from ..storage.query import Node

if TYPE_CHECKING:
    from ..resources.context import Context
    from ..resources.resource import Resource
    from .session import Session

__all__ = ["EVENTS", "Held", "LiveSubscription"]

EVENTS = frozenset({"created", "updated", "deleted", "entered", "left"})


@attrs.frozen
class Held:
    """A live event held back during a hand-off: enough to decide whether it is a repeat."""

    pk: Any
    version: int | None
    kind: str
    seq: str | None
    frame: str


@attrs.define(eq=False)
class LiveSubscription:
    """One client's subscription: which events of which objects, seen as whom."""

    id: str
    session: Session
    resource: Resource[Any]
    events: frozenset[str]
    ctx: Context
    where: Node | None = None
    scope: Node | None = None
    pk: Any = None
    #: the subscription id JSON-encoded once, for building event frames by concatenation
    id_json: str = attrs.field(init=False)
    #: live events held while a snapshot or replay is prepared; None when live
    held: list[Held] | None = attrs.field(init=False, default=None)
    #: what the client already has from a hand-off, for events the hub dispatches after it:
    #: positions replayed to it, and the snapshot's version of each object
    _replayed: set[str] = attrs.field(init=False, factory=set)
    _floor: dict[Any, int | None] = attrs.field(init=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        self.id_json = json.dumps(self.id)

    def sees(self, pk: Any, doc: dict[str, Any]) -> bool:
        """Whether the document (stored form) is in this subscription's view, by its
        filter, scope and key (permissions are the hub's to check, on the object)."""
        if self.pk is not None and pk != self.pk:
            return False
        return matches(self.where, doc) and matches(self.scope, doc)

    def kind_of(
        self, event: str, pk: Any, doc: dict[str, Any], before: dict[str, Any] | None
    ) -> str | None:
        """The event this write is to this subscription (see the module table), or None."""
        if event == "updated" and before is not None:
            was, now = self.sees(pk, before), self.sees(pk, doc)
            kind = ("updated" if was else "entered") if now else ("left" if was else None)
        else:
            kind = event if self.sees(pk, doc) else None
        return kind if kind in self.events else None

    def send(self, held: Held) -> None:
        """Send the event now, or hold it while a hand-off is prepared; never one the client
        already has from the hand-off."""
        if self.held is not None:
            self.held.append(held)
        elif self._is_new(held):
            self.session.enqueue(held.frame)

    def hold(self) -> None:
        self.held = []

    def release(
        self, known: dict[Any, int | None], replayed: frozenset[str] = frozenset()
    ) -> tuple[list[str], str | None]:
        """Go live. Returns the held frames the client does not have yet, to send now, and the
        position of the last held event it does have, if any (what a snapshot reflects).

        A client has an event replayed to it (``replayed`` seqs), and one that brought its
        object to a version no later than the snapshot's (``known``: pk -> version); both are
        remembered for events the hub is still to dispatch.
        """
        self._replayed, self._floor = set(replayed), dict(known)
        held, self.held = self.held or [], None
        frames: list[str] = []
        reflected: str | None = None
        for item in held:
            if self._is_new(item):
                frames.append(item.frame)
            elif not frames:  # positions of the snapshot's own past, before anything new
                reflected = item.seq
        return frames, reflected

    def _is_new(self, item: Held) -> bool:
        if item.seq is not None and item.seq in self._replayed:
            self._replayed.discard(item.seq)  # each position comes once
            return False
        if item.pk in self._floor:
            seen = self._floor[item.pk]
            if item.version is not None and seen is not None and item.version <= seen:
                return False
            del self._floor[item.pk]  # newer than the snapshot: so is everything after it
        return True
