"""The SSE side of the fallback, sans-io: event encoding and the stream's loop over a writer."""

from __future__ import annotations

import asyncio
import json

import pytest

from tbone.realtime import EventStream
from tbone.realtime.sse import sse_event


def test_an_event_frame_gets_its_seq_as_id() -> None:
    frame = '{"type":"event","subscription":"s1","resource":"books","pk":"1","seq":"7-0"'
    frame += ',"event":"created"}'
    assert sse_event(frame) == f"id: 7-0\ndata: {frame}\n\n".encode()


def test_other_frames_get_no_id() -> None:
    assert sse_event('{"type":"pong"}') == b'data: {"type":"pong"}\n\n'
    answer = '{"type":"response","id":1,"body":{"seq":"1"}}'
    assert not sse_event(answer).startswith(b"id:")


def test_a_key_that_looks_like_a_seq_is_not_taken_for_one() -> None:
    pk = json.dumps('x","seq":"forged')  # the hub JSON-encodes every value before seq
    frame = '{"type":"event","subscription":"s1","resource":"books","pk":' + pk
    frame += ',"seq":"12","event":"created"}'
    assert sse_event(frame).startswith(b"id: 12\n")


def test_non_ascii_and_line_separators_stay_inside_data() -> None:
    frame = json.dumps({"type": "event", "data": {"t": "\u2028é\n"}}, ensure_ascii=False)
    block = sse_event(frame).decode()
    assert block.count("\n") == 2, "JSON escapes newlines; only the event's own end remains"


async def test_frames_queued_before_run_follow_the_first_in_order() -> None:
    written: list[bytes] = []

    async def write(data: bytes) -> None:
        written.append(data)

    stream = EventStream('{"type":"session"}', keepalive=5)
    assert await stream.put('{"type":"a"}')
    stream.push(['{"type":"b"}'])
    task = asyncio.ensure_future(stream.run(write))
    await asyncio.sleep(0.01)
    assert await stream.put('{"type":"c"}')
    stream.end('{"type":"close"}')
    assert await task is True
    text = b"".join(written).decode()
    kinds = [json.loads(line[6:])["type"] for line in text.split("\n") if line.startswith("data:")]
    assert kinds == ["session", "a", "b", "c", "close"]
    assert not await stream.put('{"type":"late"}'), "an ended stream takes no frame"


async def test_a_failed_write_hands_the_unwritten_frames_back() -> None:
    gone: list[list[str]] = []
    calls = 0

    async def write(data: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise ConnectionResetError("gone")

    stream = EventStream("{}", keepalive=5, on_gone=lambda s, unsent: gone.append(unsent))
    stream.push(['{"type":"x"}', '{"type":"y"}'])
    assert await stream.run(write) is False
    assert gone == [['{"type":"x"}', '{"type":"y"}']]


@pytest.mark.timeout(10)
async def test_a_write_that_never_finishes_ends_the_stream() -> None:
    started = asyncio.Event()

    async def write(data: bytes) -> None:
        if data.startswith(b"data: {}"):
            return
        started.set()
        await asyncio.Event().wait()  # a client that never reads

    stream = EventStream("{}", keepalive=0.05, write_timeout=0.2)
    task = asyncio.ensure_future(stream.run(write))
    await asyncio.sleep(0.01)
    put = asyncio.ensure_future(stream.put('{"type":"x"}'))
    await started.wait()
    assert await asyncio.wait_for(task, 5) is False
    assert stream.done
    put.cancel()


async def test_idle_streams_get_keepalive_comments() -> None:
    written: list[bytes] = []

    async def write(data: bytes) -> None:
        written.append(data)

    stream = EventStream("{}", keepalive=0.05)
    task = asyncio.ensure_future(stream.run(write))
    await asyncio.sleep(0.3)
    stream.end()
    assert await task is True
    assert b": keep-alive\n\n" in written
