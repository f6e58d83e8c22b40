"""``EventHub``: committed writes go out on the channel; events coming in reach subscribers.

Every process serving an API publishes an envelope per write to the API's channel topic and
listens on it; each process then delivers to its own WebSocket subscribers. So a write made
through one process reaches clients connected to every other one, and a single process is
just the one-member case (``memory://``).
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import logging
import secrets
from typing import TYPE_CHECKING, Any

from ..channel import Channel, Message, QueueSubscription, Subscription
from ..data import Model, set_version, version_of
from ..errors import ChannelUnavailable, TBoneError
from ..http.body import encode_json
from ..resources.resource import Resource
from ..storage.store import Change, Store
from .index import SubscriptionIndex
from .live import Held, LiveSubscription, View

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from .session import Session

__all__ = ["EventHub", "LiveSubscription"]

Envelope = dict[str, Any]

log = logging.getLogger("tbone.realtime")

_RECENT = 4096  # positions remembered as dispatched


class EventHub:
    """Publishes write envelopes to the channel and fans incoming ones out to subscriptions."""

    #: the most events one resume may replay here, whatever ``Limits.max_replay`` says: a
    #: resume must fall within the positions the hub remembers dispatching (``catch_up``)
    max_replay = _RECENT // 2

    def __init__(self, resources: Mapping[str, Resource[Any]], channel: Channel, topic: str):
        self.resources = resources  # the API's registry, read as it fills
        self.channel = channel
        self.topic = topic
        self.sessions: set[Session] = set()
        self._by_resource: dict[str, SubscriptionIndex] = {}
        self._inbox: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._watchers: list[asyncio.Task[None]] = []
        # positions for events whose source gives none (channels without history, streams)
        self._epoch = "h" + secrets.token_hex(4)
        self._local = itertools.count(1)
        #: the position of the last event this hub dispatched
        self.last_seq: str | None = None
        # the positions dispatched lately, and resumed subscriptions waiting for the hub to
        # reach their position (see catch_up)
        self._recent: collections.deque[str] = collections.deque(maxlen=_RECENT)
        self._recent_set: set[str] = set()
        self._waiting: dict[str, dict[int, LiveSubscription]] = {}
        self._wait_keys: dict[int, frozenset[str]] = {}
        self._dispatching = False  # _listen is delivering a message (see _take_now)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on the channel, and on the change stream of every store that has one."""
        await self.channel.open()
        self._inbox = await self.channel.subscribe(self.topic)
        if isinstance(self._inbox, QueueSubscription):
            self._inbox.take_now = self._take_now
        self._task = asyncio.create_task(self._listen(self._inbox), name="tbone event hub")
        for store, resources in _watched(self.resources).items():
            task = asyncio.create_task(self._watch(store, resources), name="tbone change stream")
            self._watchers.append(task)

    async def close_sessions(self) -> None:
        """Close every connected WebSocket with 1001, all at once.

        :meth:`stop` does this; transports call it as soon as their server starts stopping,
        while stores are still open, because servers wait for open sockets before they run
        the API's shutdown.
        """
        from .limits import CloseCode

        sessions = list(self.sessions)
        await asyncio.gather(
            *(s.close(CloseCode.GOING_AWAY, "server shutting down") for s in sessions)
        )

    async def stop(self) -> None:
        await self.close_sessions()
        tasks = [*self._watchers, *([self._task] if self._task is not None else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None
        self._watchers.clear()
        if self._inbox is not None:
            await self._inbox.aclose()
            self._inbox = None
        await self.channel.aclose()

    # -- sessions and subscriptions ---------------------------------------------------------

    def attach(self, session: Session) -> None:
        """A connected session: closed with the others when the server stops."""
        self.sessions.add(session)

    def detach(self, session: Session) -> None:
        self.sessions.discard(session)

    def add(self, sub: LiveSubscription) -> None:
        index = self._by_resource.get(sub.resource.name)
        if index is None:
            index = self._by_resource[sub.resource.name] = SubscriptionIndex()
        index.add(sub)

    def remove(self, sub: LiveSubscription) -> None:
        self._stop_waiting(sub)
        index = self._by_resource.get(sub.resource.name)
        if index is not None:
            index.remove(sub)
            if not index:
                del self._by_resource[sub.resource.name]

    def subscription_count(self) -> int:
        return sum(len(s) for s in self._by_resource.values())

    # -- events -----------------------------------------------------------------------------

    async def publish(
        self, resource: Resource[Any], event: str, obj: Model, before: Model | None = None
    ) -> None:
        """Send one committed write to every process; a channel failure is logged, not raised.

        Writes to a store that has ``watch`` are not sent: its change stream reports them, with
        every other program's writes, to every process (each delivers to its own sockets).
        """
        if resource.store.supports("watch"):
            return
        channel = self.channel
        if (
            channel.in_process
            and not channel.keeps_history
            and resource.name not in self._by_resource
        ):
            return  # nobody anywhere is listening, or ever will: skip encoding the envelope
        envelope: Envelope = {
            "resource": resource.name,
            "event": event,
            "version": version_of(obj),
            "doc": obj.to_data(full=True),
        }
        if before is not None:
            envelope["before"] = before.to_data(full=True)
        try:
            # An in-process channel hands the envelope and the committed object to the hub
            # as they are: no JSON round trip, no validating the object again on the way in.
            await self.channel.publish_value(self.topic, (envelope, obj), _encode_local)
        except ChannelUnavailable:
            log.exception("could not publish %s %s to the event channel", resource.name, event)

    async def _listen(self, inbox: Subscription) -> None:
        while True:
            try:
                message = await inbox.next()
            except ChannelUnavailable:
                return
            self._dispatching = True
            try:
                await self.dispatch(message)
            except Exception:  # one bad envelope must not stop the hub
                log.exception("could not deliver an event")
            finally:
                self._dispatching = False

    def _take_now(self, message: Message) -> bool:
        """Take an in-process event nobody here subscribes to as it is published, while the
        hub is idle: it only moves the hub's position, in the order ``_listen`` would have
        (the channel queues every other message for ``_listen``)."""
        if self._dispatching or message.value is None:
            return False
        envelope: Envelope = message.value[0]
        if envelope["resource"] in self._by_resource:
            return False
        self._position(message.seq)
        return True

    async def position(self) -> str:
        """The position of the latest event: the channel's, where it keeps history."""
        head = await self.channel.head(self.topic)
        return head or self.last_seq or f"{self._epoch}.0"

    def _position(self, seq: str | None) -> str:
        if seq is None:
            seq = f"{self._epoch}.{next(self._local)}"
        self.last_seq = seq
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(seq)
        self._recent_set.add(seq)
        waiting = self._waiting.get(seq)
        if waiting:
            for sub in list(waiting.values()):
                self._stop_waiting(sub)
                sub.caught_up(seq)
        return seq

    def catch_up(self, sub: LiveSubscription, after: str, past: list[Message]) -> str | None:
        """After ``sub`` resumed after ``after`` (``past`` replayed): the position this hub
        must still dispatch before events are news to it, or None when the hub is there.

        A client may resume with a position of another process, or of a channel read this
        hub has not caught up with; what the hub dispatches up to there the client has. The
        hub gets there when it dispatches ``after`` or a message of ``past``, whichever
        comes first (``after`` may be a position of no message: an empty topic's head).
        """
        keys = frozenset({after, *(m.seq for m in past if m.seq is not None)})
        last = self.last_seq
        if after in self._recent_set or last in keys or (last is None and not past):
            return None
        self._wait_keys[id(sub)] = keys
        for key in keys:
            self._waiting.setdefault(key, {})[id(sub)] = sub
        return after

    def _stop_waiting(self, sub: LiveSubscription) -> None:
        for key in self._wait_keys.pop(id(sub), ()):
            waiting = self._waiting.get(key)
            if waiting is not None:
                waiting.pop(id(sub), None)
                if not waiting:
                    del self._waiting[key]

    async def history(
        self, after: str, resource: Resource[Any] | None = None
    ) -> list[Message] | None:
        """The channel's messages after position ``after``; None when its history does not
        reach back there (positions this hub made up itself never do, nor does a channel that
        keeps no history: it may have skipped publishing while nobody listened).

        Always None for a ``resource`` whose store reports its own changes (``watch``): those
        events never go through the channel, and their positions are this hub's alone (a
        change stream's resume token is per process and the store may not keep pre-images),
        so a resume of it is answered resync, honestly, instead of replaying nothing.
        """
        if resource is not None and resource.store.supports("watch"):
            return None
        if after.startswith(self._epoch) or not self.channel.keeps_history:
            return None
        return await self.channel.since(self.topic, after)

    async def replay(
        self,
        sub: LiveSubscription,
        past: list[Message],
        pace: Callable[[], Awaitable[None]] | None = None,
    ) -> frozenset[str]:
        """Send ``sub`` the events of ``past`` it may see now, checked as it is now; returns
        their positions. ``pace()`` is awaited after each, so that a long replay waits for
        the client to read instead of overflowing its send queue."""
        sent: set[str] = set()
        for message in past:
            envelope, obj = _opened(message)
            if envelope.get("resource") == sub.resource.name and message.seq is not None:
                await self._deliver_to(
                    [sub], sub.resource, envelope, message.seq, direct=True, obj=obj
                )
                sent.add(message.seq)
                if pace is not None:
                    await pace()
        return frozenset(sent)

    async def _watch(self, store: Store, resources: list[Resource[Any]]) -> None:
        """Deliver the changes a store reports (its own and other programs' writes)."""
        by_collection = {r.collection.spec.name: r for r in resources}
        specs = [r.collection.spec for r in resources]
        while True:
            try:
                async for change in store.watch(specs):
                    resource = by_collection.get(change.collection)
                    if resource is not None:
                        await self._deliver_change(resource, change)
            except asyncio.CancelledError:
                raise
            except Exception:  # a broken stream must not end live events: open it again
                log.exception("the change stream of %r failed; reopening it", store)
                await asyncio.sleep(1.0)

    async def _deliver_change(self, resource: Resource[Any], change: Change) -> None:
        doc = change.before if change.op == "deleted" else change.doc
        if doc is None:
            if change.op == "deleted":
                self._deliver_bare_delete(resource, change.pk)
            return  # an update of a document deleted since: its delete follows
        envelope: Envelope = {"event": change.op, "doc": doc, "version": change.version}
        if change.op == "updated" and change.before is not None:
            envelope["before"] = change.before
        try:
            await self.deliver(resource, envelope, self._position(None))
        except TBoneError as exc:  # written by another program, it may not fit the model
            log.warning(
                "a change to %s %r does not fit %s and was not sent: %s",
                resource.name,
                change.pk,
                resource.model.__name__,
                exc,
            )

    def _deliver_bare_delete(self, resource: Resource[Any], pk: Any) -> None:
        """A delete the store kept no image of: sent, with the key only, to subscriptions that
        need no data to decide (no scope, no permissions to check against the object)."""
        subs = self._by_resource.get(resource.name)
        if not subs or resource.active_permissions():
            return
        seq = self._position(None)
        tail = (
            f',"resource":{json.dumps(resource.name)},"event":"deleted",'
            f'"pk":{json.dumps(pk)},"seq":{json.dumps(seq)}}}'
        )
        for sub in subs:
            if sub.scope is None and "deleted" in sub.events and sub.pk in (None, pk):
                frame = '{"type":"event","subscription":' + sub.id_json + tail
                sub.send(Held(pk, None, "deleted", seq, frame))

    async def dispatch(self, message: bytes | Message) -> None:
        """Deliver one envelope that came in on the channel."""
        if isinstance(message, bytes):
            message = Message(message)
        envelope, obj = _opened(message)
        resource = self.resources.get(envelope["resource"])
        seq = self._position(message.seq)
        if resource is not None:
            await self.deliver(resource, envelope, seq, obj)

    async def deliver(
        self, resource: Resource[Any], envelope: Envelope, seq: str, obj: Model | None = None
    ) -> None:
        """Send one committed write to the subscriptions it concerns, each seeing it as its
        subscriber may (see :mod:`tbone.realtime.live`); ``obj``: the committed object, when
        it came from this process (otherwise it is built from the envelope's document)."""
        index = self._by_resource.get(resource.name)
        if not index:
            return
        doc, before = envelope["doc"], envelope.get("before")
        candidates = index.candidates(doc.get(resource.pk), doc, before)
        if candidates:
            await self._deliver_to(candidates, resource, envelope, seq, obj=obj)

    async def _deliver_to(
        self,
        subs: list[LiveSubscription],
        resource: Resource[Any],
        envelope: Envelope,
        seq: str,
        *,
        direct: bool = False,
        obj: Model | None = None,
    ) -> None:
        event: str = envelope["event"]
        doc: dict[str, Any] = envelope["doc"]
        before: dict[str, Any] | None = envelope.get("before")
        pk = doc.get(resource.pk)
        plans = _plans(subs, event, pk, doc, before)
        if not plans:
            return
        version = envelope.get("version")
        if obj is None:  # it came over the wire: build (and validate) it from the document
            obj = resource.model.from_data(doc)
            set_version(obj, version)
        # The data is encoded once and each frame is built by concatenation: with a thousand
        # subscribers, per-subscriber JSON encoding would dominate the fan-out.
        head = (
            f',"resource":{json.dumps(resource.name)},"pk":{json.dumps(pk)},"seq":{json.dumps(seq)}'
        )
        custom = _custom_serializer(resource)
        checks = bool(resource.active_permissions())
        # the permission check is the subscriber's: asked once per identity (context)
        visible: dict[int, bool] = {}
        # what follows the subscription id in a frame, its UTF-8 size, and the version the
        # event brings the object to: once per event kind
        tails: dict[str, tuple[str, int, int | None]] = {}
        for sub, kind in plans:
            if kind != "left" and checks and not await _may_see(visible, sub, obj):
                if kind != "updated":
                    continue
                kind = "left"  # it was visible, and its subscriber may no longer see it
                if "left" not in sub.events:
                    continue
            tail = tails.get(kind)
            if tail is None or (custom and kind != "left"):
                data = None
                if kind != "left":
                    data = encode_json(resource.serialize(obj, sub.ctx)).decode()
                tail = _tail(head, kind, data, _held_version(kind, version))
                if not custom or kind == "left":
                    tails[kind] = tail
            text, tail_size, held_version = tail
            # the id is JSON with ASCII escapes: its length is its size
            size = _EVENT_SIZE + len(sub.id_json) + tail_size
            frame = _EVENT + sub.id_json + text
            if direct:
                sub.emit(Held(pk, held_version, kind, seq, frame, size))
            else:
                sub.offer(pk, held_version, kind, seq, frame, size)


_EVENT = '{"type":"event","subscription":'
_EVENT_SIZE = len(_EVENT)


def _tail(
    head: str, kind: str, data: str | None, version: int | None
) -> tuple[str, int, int | None]:
    """A frame after its subscription id (``data``: the object's JSON, None for ``left``),
    with its UTF-8 size, and ``version``."""
    tail = f'{head},"event":"{kind}"' + ("}" if data is None else f',"data":{data}}}')
    size = len(tail) if tail.isascii() else len(tail.encode("utf-8", "surrogatepass"))
    return tail, size, version


def _plans(
    subs: list[LiveSubscription],
    event: str,
    pk: Any,
    doc: dict[str, Any],
    before: dict[str, Any] | None,
) -> list[tuple[LiveSubscription, str]]:
    """Each subscription this write is an event to, with the event: decided once per
    :class:`~tbone.realtime.live.View` (equal subscriptions share the answer)."""
    kinds: dict[View, str | None] = {}
    plans: list[tuple[LiveSubscription, str]] = []
    for sub in subs:
        view = sub.view
        if view in kinds:
            kind = kinds[view]
        else:
            kind = kinds[view] = sub.kind_of(event, pk, doc, before)
        if kind is not None:
            plans.append((sub, kind))
    return plans


async def _may_see(visible: dict[int, bool], sub: LiveSubscription, obj: Model) -> bool:
    """``sub.may_see(obj)``, asked once per context during one write (a session's
    subscriptions share their subscriber's context)."""
    known = visible.get(id(sub.ctx))
    if known is None:
        known = visible[id(sub.ctx)] = await sub.may_see(obj)
    return known


def _encode_local(value: tuple[Envelope, Model]) -> bytes:
    """What a channel that leaves the process sends of a published ``(envelope, object)``."""
    return encode_json(value[0])


def _opened(message: Message) -> tuple[Envelope, Model | None]:
    """A message's envelope, and the committed object when it never left this process."""
    if message.value is not None:
        envelope, obj = message.value
        return envelope, obj
    return json.loads(message.data), None


def _held_version(kind: str, version: int | None) -> int | None:
    """The version an event brings its object to: a delete is one past the last one."""
    if version is None:
        return None
    return version + 1 if kind == "deleted" else version


def _watched(resources: Mapping[str, Resource[Any]]) -> dict[Store, list[Resource[Any]]]:
    """The resources of each store that reports its own changes."""
    found: dict[Store, list[Resource[Any]]] = {}
    for resource in resources.values():
        if resource.store.supports("watch"):
            found.setdefault(resource.store, []).append(resource)
    return found


def _custom_serializer(resource: Resource[Any]) -> bool:
    return type(resource).serialize is not Resource.serialize
