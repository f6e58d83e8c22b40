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

The subscription also remembers which objects its client holds (:class:`Holdings`: what it
was sent and not since told it lost), so that after a re-authorization it can tell the
client which of them the new identity may no longer see (:meth:`LiveSubscription.recheck`).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import TBoneError
from ..storage.matcher import matches
from ..storage.query import Node, compile_lookup

if TYPE_CHECKING:
    from ..data import Model
    from ..resources.context import Context
    from ..resources.resource import Resource
    from .session import Session

__all__ = ["EVENTS", "Budget", "Held", "Holdings", "LiveSubscription"]

EVENTS = frozenset({"created", "updated", "deleted", "entered", "left"})
_GIVES = frozenset({"created", "updated", "entered"})  # the client holds the object after it
_TAKES = frozenset({"deleted", "left"})  # and no longer after these
_BATCH = 500  # keys per store query when re-checking what a client holds


class Budget:
    """How many more objects the subscriptions of one connection may remember."""

    __slots__ = ("room",)

    def __init__(self, room: int) -> None:
        self.room = room


class Holdings:
    """The keys of the objects a subscription's client holds, bounded.

    Past ``cap`` keys, or when the connection's :class:`Budget` runs out, it stops
    remembering (``keys()`` is None from then on) and gives its room back: the subscription
    is then told ``resync`` where it would have been told what it lost.
    """

    __slots__ = ("_budget", "_cap", "_keys", "_off")

    def __init__(self, cap: int, budget: Budget) -> None:
        self._cap = cap
        self._budget = budget
        self._keys: set[Any] | None = None  # made with the first key (most sockets idle)
        self._off = False  # gave up

    def note(self, kind: str, pk: Any) -> None:
        if self._off:
            return
        keys = self._keys
        if kind in _TAKES:
            if keys and pk in keys:
                keys.discard(pk)
                self._budget.room += 1
        elif kind in _GIVES and (keys is None or pk not in keys):
            if (len(keys) if keys else 0) >= self._cap or self._budget.room <= 0:
                self.give_up()
                return
            if keys is None:
                keys = self._keys = set()
            keys.add(pk)
            self._budget.room -= 1

    def keys(self) -> frozenset[Any] | None:
        return None if self._off else frozenset(self._keys or ())

    def give_up(self) -> None:
        """Forget every key (when the cap is passed, or the subscription ends)."""
        if not self._off:
            self._budget.room += len(self._keys or ())
            self._keys, self._off = None, True


@attrs.frozen
class Held:
    """A live event held back during a hand-off: enough to decide whether it is a repeat."""

    pk: Any
    version: int | None
    kind: str
    seq: str | None
    frame: str
    #: the frame's UTF-8 size, when its builder knows it (else it is measured when queued)
    size: int | None = None


class View:
    """What decides the event a write is to a subscription (filter, scope, key, events),
    one object for all equal subscriptions: the hub decides each write once per view."""

    __slots__ = ("__weakref__",)


# (repr of filter, of scope, of key, events) -> the view, while a subscription holds it; the
# reprs tell apart values that are equal but do not match alike (1, 1.0 and True)
_VIEWS: weakref.WeakValueDictionary[tuple[str, str, str, frozenset[str]], View] = (
    weakref.WeakValueDictionary()
)


def view_of(where: Node | None, scope: Node | None, pk: Any, events: frozenset[str]) -> View:
    """The view shared by every subscription with this filter, scope, key and events."""
    key = (repr(where), repr(scope), repr(pk), events)
    view = _VIEWS.get(key)
    if view is None:
        view = _VIEWS[key] = View()
    return view


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
    #: what its client holds; unbounded-free default for subscriptions made outside a session
    holdings: Holdings = attrs.field(factory=lambda: Holdings(0, Budget(0)), kw_only=True)
    #: the position of the last event sent to it (or of its answer)
    seq: str | None = attrs.field(default=None, kw_only=True)
    #: the subscription id JSON-encoded once, for building event frames by concatenation
    id_json: str = attrs.field(init=False)
    #: live events held while a snapshot or replay is prepared; None when live
    held: list[Held] | None = attrs.field(init=False, default=None)
    #: what the client already has from a hand-off, for events the hub dispatches after it:
    #: positions replayed to it, and the snapshot's version of each object
    _replayed: set[str] | None = attrs.field(init=False, default=None)
    _floor: dict[Any, int | None] = attrs.field(init=False, factory=dict)
    #: after a resume from a position this process had not dispatched yet: that position,
    #: until the hub dispatches it (what comes before it the client already has)
    _until: str | None = attrs.field(init=False, default=None)
    #: its view, and the filter and scope it was worked out for (``scope`` changes when the
    #: subscriber re-authenticates)
    _view: View | None = attrs.field(init=False, default=None)
    _view_for: tuple[Node | None, Node | None] | None = attrs.field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        self.id_json = json.dumps(self.id)

    @property
    def view(self) -> View:
        """Its :class:`View`: subscriptions with the same one get the same event of a write."""
        made_for = self._view_for
        if made_for is None or made_for[0] is not self.where or made_for[1] is not self.scope:
            self._view = view_of(self.where, self.scope, self.pk, self.events)
            self._view_for = (self.where, self.scope)
        assert self._view is not None
        return self._view

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
            if len(self.held) >= self.session.limits.send_queue:
                self.session.overflow()  # a hand-off the client does not read: bounded
                return
            self.held.append(held)
        elif self._is_new(held):
            self.emit(held)

    def offer(
        self, pk: Any, version: int | None, kind: str, seq: str | None, frame: str, size: int
    ) -> None:
        """:meth:`send` for the hub's fan-out: a :class:`Held` is built only to be held."""
        if self.held is not None or self._until is not None or self._floor or self._replayed:
            self.send(Held(pk, version, kind, seq, frame, size))
            return
        self.holdings.note(kind, pk)  # new to the client: nothing of a hand-off to compare
        if seq is not None:
            self.seq = seq
        self.session.enqueue(frame, size)

    def emit(self, held: Held) -> None:
        """Send the event to the client now, remembering what the client holds after it."""
        self.holdings.note(held.kind, held.pk)
        if held.seq is not None:
            self.seq = held.seq
        self.session.enqueue(held.frame, held.size)

    def hold(self) -> None:
        self.held = []

    def release(
        self,
        known: dict[Any, int | None] | None = None,
        replayed: frozenset[str] = frozenset(),
        until: str | None = None,
    ) -> tuple[list[Held], str | None]:
        """Go live. Returns the held events the client does not have yet, to :meth:`emit`
        now, and the position of the last held event it does have, if any (what a snapshot
        reflects).

        A client has an event replayed to it (``replayed`` seqs), and one that brought its
        object to a version no later than the snapshot's (``known``: pk -> version); both are
        remembered for events the hub is still to dispatch. ``until`` is the position a
        resume started from when this process's hub had not dispatched it yet: events up to
        it are the client's already (the hub calls :meth:`caught_up` when it gets there).
        Without ``known`` (a pause that was no hand-off) what was remembered stays.
        """
        if known is not None:
            self._replayed = set(replayed) if replayed else None
            self._floor = dict(known) if known else {}
            self._until = until
            for pk in known:
                self.holdings.note("created", pk)
        held, self.held = self.held or [], None
        fresh: list[Held] = []
        reflected: str | None = None
        for item in held:
            if self._is_new(item):
                fresh.append(item)
            elif not fresh:  # positions of the snapshot's own past, before anything new
                reflected = item.seq
        return fresh, reflected

    def caught_up(self, seq: str) -> None:
        """The hub is dispatching ``seq``, the resume position or one after it: events from
        this one on are news, except the resume position's own."""
        if self._until == seq:
            if self._replayed is None:
                self._replayed = set()
            self._replayed.add(seq)
        self._until = None

    async def may_see(self, obj: Model) -> bool:
        """Whether its permissions let its subscriber see ``obj`` (``detail`` of it)."""
        resource = self.resource
        if not resource.active_permissions():
            return True
        try:
            await resource.authorize(self.ctx, "detail", obj)
        except TBoneError:
            return False
        return True

    async def recheck(self) -> list[Held]:
        """After a re-authorization (``ctx`` and ``scope`` already the new identity's): a
        ``left`` for each object its client holds that the new identity may not see, or one
        ``resync`` when there were too many to remember. Its live events are held meanwhile,
        so none overtakes the answer."""
        keys = self.holdings.keys()
        if keys is None:
            return [self._bare("resync", None)]
        if not keys or "left" not in self.events:
            return []
        visible: set[Any] = set()
        collection, pk_name = self.resource.collection, self.resource.pk
        view = [n for n in (self.where, self.scope) if n is not None]
        for chunk in _chunks(sorted(keys, key=repr)):
            among = compile_lookup(self.resource.model, f"{pk_name}__in", chunk)
            found = await collection.find(*view, among)
            for obj in found:
                if await self.may_see(obj):
                    visible.add(collection._wire_pk(getattr(obj, pk_name)))
        return [self._bare("left", pk) for pk in sorted(keys - visible, key=repr)]

    def _bare(self, kind: str, pk: Any) -> Held:
        """An event with no data: ``left`` (pk only) or ``resync`` (no pk either)."""
        frame: dict[str, Any] = {
            "type": "event",
            "subscription": self.id,
            "resource": self.resource.name,
        }
        if pk is not None:
            frame["pk"] = pk
        frame.update({"seq": self.seq, "event": kind})
        return Held(pk, None, kind, self.seq, json.dumps(frame))

    def _is_new(self, item: Held) -> bool:
        if self._until is not None:
            return False  # from before the position it resumed after: the client has it
        replayed = self._replayed
        if replayed and item.seq is not None and item.seq in replayed:
            replayed.discard(item.seq)  # each position comes once
            return False
        if item.pk in self._floor:
            seen = self._floor[item.pk]
            if item.version is not None and seen is not None and item.version <= seen:
                return False
            del self._floor[item.pk]  # newer than the snapshot: so is everything after it
        return True


def _chunks(keys: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(keys), _BATCH):
        yield keys[start : start + _BATCH]
