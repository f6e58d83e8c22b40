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

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        await self.channel.open()
        self._inbox = await self.channel.subscribe(self.topic)
        self._task = asyncio.create_task(self._listen(self._inbox), name="tbone event hub")

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
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
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
        """Send one committed write to every process; a channel failure is logged, not raised."""
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

    async def dispatch(self, message: bytes) -> None:
        envelope = json.loads(message)
        name = envelope["resource"]
        subs = self._by_resource.get(name)
        resource = self.resources.get(name)
        if not subs or resource is None:
            return
        event: str = envelope["event"]
        doc: dict[str, Any] = envelope["doc"]
        pk = doc.get(resource.pk)
        wanted = [s for s in list(subs.values()) if s.wants(event, pk, doc)]
        if not wanted:
            return
        obj = resource.model.from_data(doc)
        set_version(obj, envelope.get("version"))
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
