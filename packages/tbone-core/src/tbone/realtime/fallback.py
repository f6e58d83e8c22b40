"""The WebSocket-less fallback: ``tbone.v1`` over Server-Sent Events and HTTP POST.

Where a proxy blocks WebSockets, one session speaks the same frames over two HTTP requests::

    GET    {prefix}/_stream              opens a session; a text/event-stream response whose first
                                         event is {"type":"session","session":ID,"token":T,...}
    POST   {prefix}/_stream/ID           one frame (a JSON object) or several (an array) from the
                                         client; header TBone-Stream-Token: T; answers 202
    GET    {prefix}/_stream/ID           the stream again after a drop (token as above, or
                                         ?stream_token=T); with Last-Event-ID the events missed
                                         since are replayed, or {"event":"resync"} is sent
    DELETE {prefix}/_stream/ID           ends the session

The session is a :class:`~tbone.realtime.Session` like a WebSocket's: the opening GET is its
handshake (same authenticator, ``?token=``, in-band ``auth`` frames), the same limits apply, and
server-side closes arrive as a last ``{"type":"close","code":…,"reason":…}`` event. An unknown
session id and a wrong token get the same 404, so neither tells whether the other exists.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import TYPE_CHECKING, Any

from ..errors import BadRequest, HTTPError, NotFound, TooLarge
from ..http.body import decode_json, encode_json
from ..http.message import Request, Response
from ..http.problem import PROBLEM_JSON, problem_for
from ..jsontext import encode
from .limits import CloseCode, Limits
from .sse import EventStream
from .streamsession import OpenSession, StreamLimits, StreamSession

if TYPE_CHECKING:
    from ..http.cors import CORS

__all__ = ["STREAM_PATH", "StreamLimits", "StreamSession", "Streams"]

log = logging.getLogger("tbone.realtime")

STREAM_PATH = "_stream"  # served at {prefix}/_stream
TOKEN_HEADER = "tbone-stream-token"
_MAX_SEQ = 200


class Streams:
    """The fallback's HTTP face, and its sessions (at most ``options.max_sessions``)."""

    def __init__(
        self,
        prefix: str,
        open_session: OpenSession,
        *,
        limits: Limits,
        options: StreamLimits | None = None,
        max_json_depth: int = 64,
        cors: CORS | None = None,
    ) -> None:
        self.path = f"{prefix}/{STREAM_PATH}"
        self.open_session = open_session
        self.limits = limits
        self.options = options or StreamLimits()
        self.max_json_depth = max_json_depth
        self.cors = cors
        self.sessions: dict[str, StreamSession] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._opening = 0  # sessions being authenticated: they count towards the cap

    def __len__(self) -> int:
        return len(self.sessions)

    def owns(self, path: str) -> bool:
        return path == self.path or path.startswith(self.path + "/")

    def forget(self, session: StreamSession) -> None:
        if self.sessions.get(session.id) is session:
            del self.sessions[session.id]

    def spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- GET: the stream --------------------------------------------------------------------

    async def open(self, request: Request) -> Response | EventStream | None:
        """The stream a ``GET`` under :attr:`path` asks for, a refusal, or None for a deeper
        path (``API.open_stream`` sends only those GETs here, and None for every other)."""
        rest = request.path[len(self.path) :].strip("/")
        try:
            if not rest:
                return await self._new(request)
            if "/" not in rest:
                return await self._resume(request, rest)
        except Exception as exc:
            return self._error(request, exc)
        return None  # deeper paths: handle() answers 404

    async def _new(self, request: Request) -> Response | EventStream:
        if len(self.sessions) + self._opening >= self.options.max_sessions:
            raise HTTPError(
                503,
                f"this server holds its limit of {self.options.max_sessions} stream sessions; "
                "retry later",
                headers=[("Retry-After", "5")],
                slug="too-many-sessions",
            )
        stream_session = StreamSession(self, request, self.open_session)
        self._opening += 1
        try:
            started = await stream_session.session.start()
        finally:
            self._opening -= 1
        if not started:
            return self._refusal(request, stream_session)
        self.sessions[stream_session.id] = stream_session
        first = {
            "type": "session",
            "session": stream_session.id,
            "token": stream_session.token,
            "path": f"{self.path}/{stream_session.id}",
        }
        return self._stream(request, stream_session, first)

    async def _resume(self, request: Request, session_id: str) -> EventStream:
        stream_session = self._find(request, session_id)
        after = _last_event_id(request)
        first = {"type": "session", "session": session_id, "resumed": True}
        stream = self._stream(request, stream_session, first, after)
        if after is not None:
            try:
                await stream_session.resume(after)
            except Exception:  # the stream still serves what comes next
                log.exception("replaying the events a resumed stream missed failed")
        return stream

    def _stream(
        self,
        request: Request,
        stream_session: StreamSession,
        first: dict[str, Any],
        after: str | None = None,
    ) -> EventStream:
        options = self.options
        stream = EventStream(
            encode(first),
            headers=self._cors(request),
            keepalive=options.keepalive,
            write_timeout=options.write_timeout,
            on_gone=stream_session.stream_gone,
        )
        stream_session.connect(stream, after)
        return stream

    def _refusal(self, request: Request, stream_session: StreamSession) -> Response:
        """The error frame a refused session sent, as the HTTP answer to its GET."""
        texts = list(stream_session._pending)
        frame = json.loads(texts[0]) if texts else {}
        status = frame.get("status", 401)
        headers = [("Content-Type", PROBLEM_JSON), *self._cors(request)]
        return Response(int(status), tuple(headers), encode_json(frame.get("body", {})))

    # -- POST, DELETE, OPTIONS --------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        """Answer a request under ``{prefix}/_stream`` that is not a stream."""
        try:
            return await self._handle(request)
        except Exception as exc:
            return self._error(request, exc)

    async def _handle(self, request: Request) -> Response:
        rest = request.path[len(self.path) :].strip("/")
        if "/" in rest:
            raise NotFound(f"nothing is served at {request.path}")
        allowed = ("GET", "POST", "DELETE", "OPTIONS") if rest else ("GET", "OPTIONS")
        method = request.method.upper()
        if method == "OPTIONS":
            headers = [("Allow", ", ".join(allowed)), *self._cors(request, allowed)]
            return Response(204, tuple(headers))
        if method not in allowed or method == "GET":
            listed = ", ".join(allowed)
            raise HTTPError(
                405, f"{method} is not served here; use {listed}", headers=[("Allow", listed)]
            )
        stream_session = self._find(request, rest)
        if method == "DELETE":
            await stream_session.session.close(CloseCode.NORMAL, "closed by the client")
            return Response(204, tuple(self._cors(request)))
        count = await self._post(stream_session, request)
        body = encode_json({"accepted": count})
        return Response(202, (("Content-Type", "application/json"), *self._cors(request)), body)

    async def _post(self, stream_session: StreamSession, request: Request) -> int:
        limits, options = self.limits, self.options
        frames = decode_json(
            request.headers, request.body, limits.max_frame_bytes, self.max_json_depth + 1
        )
        if not isinstance(frames, list):
            frames = [frames]
        if not frames:
            raise BadRequest("the POST holds no frame; send a frame or a list of frames")
        if len(frames) > options.max_frames_per_post:
            raise TooLarge(
                f"send at most {options.max_frames_per_post} frames per POST, got {len(frames)}",
                slug="too-many-frames",
            )
        if stream_session.posts >= options.max_posts_in_flight:
            raise HTTPError(
                429,
                f"at most {options.max_posts_in_flight} POSTs per session at once; "
                "wait for their answers",
                slug="limit-exceeded",
            )
        stream_session.posts += 1
        try:
            async with asyncio.timeout(options.post_timeout), stream_session.lock:
                session = stream_session.session
                for frame in frames:
                    if session.closed:
                        break
                    await session.receive(encode(frame))
        except TimeoutError:
            raise HTTPError(
                503,
                "the session's event stream is not being read, so its frames wait; "
                "read the stream and retry",
                headers=[("Retry-After", "1")],
                slug="stream-not-read",
            ) from None
        finally:
            stream_session.posts -= 1
        return len(frames)

    # -- helpers ----------------------------------------------------------------------------

    def _find(self, request: Request, session_id: str) -> StreamSession:
        stream_session = self.sessions.get(session_id)
        token = request.headers.get(TOKEN_HEADER) or _query(request, "stream_token") or ""
        if stream_session is None or not hmac.compare_digest(
            token.encode("utf-8", "replace"), stream_session.token.encode()
        ):
            raise NotFound(
                "there is no stream session with this id and token (it may have ended); "
                f"open a new one with GET {self.path}"
            )
        return stream_session

    def _cors(
        self, request: Request, allowed: tuple[str, ...] = ("GET", "POST", "DELETE", "OPTIONS")
    ) -> list[tuple[str, str]]:
        if self.cors is None:
            return []
        headers = self.cors.headers(request, allowed)
        extra = "TBone-Stream-Token, Last-Event-ID"
        return [
            (name, f"{value}, {extra}" if name == "Access-Control-Allow-Headers" else value)
            for name, value in headers
        ]

    def _error(self, request: Request, exc: BaseException) -> Response:
        status, body, headers = problem_for(exc)
        if status >= 500 and not isinstance(exc, HTTPError):
            log.error("unhandled error in a stream request", exc_info=exc)
        out = [("Content-Type", PROBLEM_JSON), *headers, *self._cors(request)]
        return Response(status, tuple(out), encode_json(body))


def _query(request: Request, name: str) -> str | None:
    try:
        pairs = request.query
    except BadRequest:
        return None
    return next((value for key, value in pairs if key == name), None)


def _last_event_id(request: Request) -> str | None:
    value = request.headers.get("last-event-id") or _query(request, "last_event_id")
    if not value:
        return None
    if len(value) > _MAX_SEQ or not value.isprintable():
        raise BadRequest(
            f"Last-Event-ID must be the id of an event of this stream (at most {_MAX_SEQ} "
            "printable characters)",
            slug="bad-last-event-id",
        )
    return value
