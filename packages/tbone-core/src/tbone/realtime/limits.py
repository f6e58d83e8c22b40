"""Per-connection bounds that keep one slow or hostile WebSocket client from hurting others."""

from __future__ import annotations

import attrs

__all__ = ["CloseCode", "Limits"]


@attrs.frozen(kw_only=True)
class Limits:
    """``API(realtime=Limits(...))``. Overflowing the send queue closes that socket (1008)."""

    #: frames waiting to be sent to one client; a client that does not read is disconnected
    send_queue: int = 1000
    #: bytes of those frames (UTF-8); over either bound the socket is closed with 1008
    send_queue_bytes: int = 1 << 20
    #: live subscriptions per connection; more get an error frame (429)
    max_subscriptions: int = 100
    #: largest frame accepted from a client; larger closes the socket (1009)
    max_frame_bytes: int = 1 << 20
    #: requests handled at once per connection; further frames wait (back-pressure)
    max_concurrent_requests: int = 8
    #: seconds without any frame from the client before the server closes (clients ping)
    idle_timeout: float = 120.0
    #: objects the server remembers a subscription's client holds (for ``left`` after an
    #: ``auth`` frame); past it, or past ``tracked_objects_per_connection`` for the whole
    #: connection, the subscription is told ``resync`` on re-authorization instead
    tracked_objects: int = 1000
    tracked_objects_per_connection: int = 10_000
    #: events one resume may replay; a gap longer than that answers ``resync`` (the client
    #: re-snapshots), so a storm of reconnecting clients costs bounded work each
    max_replay: int = 1000


class CloseCode:
    """WebSocket close codes TBone uses (RFC 6455 §7.4 and the application range)."""

    NORMAL = 1000
    GOING_AWAY = 1001  # the server is shutting down
    POLICY = 1008  # a bound was overflowed
    TOO_BIG = 1009
    INTERNAL = 1011
    UNAUTHORIZED = 4401  # credentials given on connect were refused
