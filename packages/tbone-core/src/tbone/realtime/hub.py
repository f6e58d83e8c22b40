"""``EventHub``: committed writes go out on the channel; events coming in reach subscribers.

Every process serving an API publishes an envelope per write to the API's channel topic and
listens on it; each process then delivers to its own WebSocket subscribers. So a write made
through one process reaches clients connected to every other one, and a single process is
just the one-member case (``memory://``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

import attrs

from ..channel import Channel, Subscription
from ..data import Model, set_version, version_of
from ..errors import ChannelUnavailable, TBoneError
from ..http.body import encode_json
from ..resources.context import Context
from ..resources.resource import Resource
from ..storage.matcher import matches
from ..storage.query import Node
from ..storage.store import Change, Store

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .session import Session

__all__ = ["EventHub", "LiveSubscription"]

log = logging.getLogger("tbone.realtime")


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

    def __attrs_post_init__(self) -> None:
        self.id_json = json.dumps(self.id)

    def wants(self, event: str, pk: Any, doc: dict[str, Any]) -> bool:
        if event not in self.events or (self.pk is not None and pk != self.pk):
            return False
        return matches(self.where, doc) and matches(self.scope, doc)


class EventHub:
    """Publishes write envelopes to the channel and fans incoming ones out to subscriptions."""

    def __init__(self, resources: Mapping[str, Resource[Any]], channel: Channel, topic: str):
        self.resources = resources  # the API's registry, read as it fills
        self.channel = channel
        self.topic = topic
        self.sessions: set[Session] = set()
        self._by_resource: dict[str, dict[int, LiveSubscription]] = {}
        self._inbox: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._watchers: list[asyncio.Task[None]] = []

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on the channel, and on the change stream of every store that has one."""
        await self.channel.open()
        self._inbox = await self.channel.subscribe(self.topic)
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
        self._by_resource.setdefault(sub.resource.name, {})[id(sub)] = sub

    def remove(self, sub: LiveSubscription) -> None:
        subs = self._by_resource.get(sub.resource.name)
        if subs is not None:
            subs.pop(id(sub), None)
            if not subs:
                del self._by_resource[sub.resource.name]

    def subscription_count(self) -> int:
        return sum(len(s) for s in self._by_resource.values())

    # -- events -----------------------------------------------------------------------------

    async def publish(self, resource: Resource[Any], event: str, obj: Model) -> None:
        """Send one committed write to every process; a channel failure is logged, not raised.

        Writes to a store that has ``watch`` are not sent: its change stream reports them, with
        every other program's writes, to every process (each delivers to its own sockets).
        """
        if resource.store.supports("watch"):
            return
        if self.channel.in_process and resource.name not in self._by_resource:
            return  # nobody anywhere is listening: skip encoding the envelope
        envelope = {
            "resource": resource.name,
            "event": event,
            "version": version_of(obj),
            "doc": obj.to_data(full=True),
        }
        try:
            await self.channel.publish(self.topic, encode_json(envelope))
        except ChannelUnavailable:
            log.exception("could not publish %s %s to the event channel", resource.name, event)

    async def _listen(self, inbox: Subscription) -> None:
        while True:
            try:
                message = await inbox.get()
            except ChannelUnavailable:
                return
            try:
                await self.dispatch(message)
            except Exception:  # one bad envelope must not stop the hub
                log.exception("could not deliver an event")

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
        try:
            await self.deliver(resource, change.op, doc, change.version)
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
        frame_tail = f',"resource":{json.dumps(resource.name)},"event":"deleted","pk":'
        for sub in list(subs.values()):
            if sub.scope is None and "deleted" in sub.events and sub.pk in (None, pk):
                sub.session.enqueue(
                    '{"type":"event","subscription":'
                    + sub.id_json
                    + frame_tail
                    + json.dumps(pk)
                    + "}"
                )

    async def dispatch(self, message: bytes) -> None:
        envelope = json.loads(message)
        resource = self.resources.get(envelope["resource"])
        if resource is not None:
            await self.deliver(
                resource, envelope["event"], envelope["doc"], envelope.get("version")
            )

    async def deliver(
        self, resource: Resource[Any], event: str, doc: dict[str, Any], version: int | None
    ) -> None:
        """Send one committed write (``doc`` in stored form) to the subscriptions it concerns,
        each seeing it as its subscriber may."""
        name = resource.name
        subs = self._by_resource.get(name)
        if not subs:
            return
        pk = doc.get(resource.pk)
        wanted = [s for s in list(subs.values()) if s.wants(event, pk, doc)]
        if not wanted:
            return
        obj = resource.model.from_data(doc)
        set_version(obj, version)
        # The data is encoded once and each frame is built by concatenation: with a thousand
        # subscribers, per-subscriber JSON encoding would dominate the fan-out.
        head = (
            f',"resource":{json.dumps(name)},"event":{json.dumps(event)},'
            f'"pk":{json.dumps(pk)},"data":'
        )
        shared = (
            None
            if _custom_serializer(resource)
            else encode_json(resource.serialize(obj, wanted[0].ctx)).decode()
        )
        for sub in wanted:
            if not await _may_see(sub, obj):
                continue
            data = (
                shared
                if shared is not None
                else encode_json(resource.serialize(obj, sub.ctx)).decode()
            )
            sub.session.enqueue('{"type":"event","subscription":' + sub.id_json + head + data + "}")


def _watched(resources: Mapping[str, Resource[Any]]) -> dict[Store, list[Resource[Any]]]:
    """The resources of each store that reports its own changes."""
    found: dict[Store, list[Resource[Any]]] = {}
    for resource in resources.values():
        if resource.store.supports("watch"):
            found.setdefault(resource.store, []).append(resource)
    return found


def _custom_serializer(resource: Resource[Any]) -> bool:
    return type(resource).serialize is not Resource.serialize


async def _may_see(sub: LiveSubscription, obj: Model) -> bool:
    resource = sub.resource
    if not resource.active_permissions():
        return True
    try:
        await resource.authorize(sub.ctx, "detail", obj)
    except TBoneError:
        return False
    return True
