"""Keys, positions and Lua scripts of the Redis Streams channel.

Each topic has two keys in one hash slot (so that a Lua script may touch both on a Cluster):

- ``tbone:{t:<prefix><topic>}:s``, the stream: one entry per message, fields ``d`` (the data),
  ``e`` (the epoch) and ``n`` (its number);
- ``tbone:{t:<prefix><topic>}:m``, a hash: ``e``, the epoch (random, made by the first
  publisher), and ``n``, how many messages the topic has had in that epoch.

A position is ``<epoch>.<n>.<stream id>``. The epoch tells this topic's positions from another
server's, or from before the data was lost (a restart without persistence, a FLUSHDB): then the
stream is gone and the next publish starts a new epoch. ``n`` makes gaps visible: the history
after position ``n`` is complete exactly when its first entry kept is number ``n + 1``.
"""

from __future__ import annotations

import re

import attrs

__all__ = ["HEAD", "PUBLISH", "SINCE", "Position", "keys_of", "parse_id"]

_POSITION = re.compile(r"([0-9a-f]{16})\.(\d{1,19})\.(\d{1,20})-(\d{1,20})")

# The meta hash is (re)made when it is missing, or when it counts messages the stream no longer
# has (the stream key was deleted on its own). Trimming never empties a stream: the newest
# entry always stays.
_ENSURE_META = """
local e = redis.call('HGET', KEYS[2], 'e')
local n = tonumber(redis.call('HGET', KEYS[2], 'n') or '0')
if (not e) or (n > 0 and redis.call('EXISTS', KEYS[1]) == 0) then
  e = ARGV[1]
  n = 0
  redis.call('HSET', KEYS[2], 'e', e, 'n', 0)
end
"""

# ARGV: new epoch, data, maxlen, max age in ms (0: none). Returns {epoch, n, id}.
PUBLISH = (
    _ENSURE_META
    + """
n = redis.call('HINCRBY', KEYS[2], 'n', 1)
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'd', ARGV[2], 'e', e, 'n', n)
local age = tonumber(ARGV[4])
if age > 0 then
  local ms = tonumber(string.match(id, '^(%d+)'))
  if ms > age then
    redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%.0f', ms - age))
  end
end
return {e, n, id}
"""
)

# ARGV: new epoch. Returns {epoch, n, id of the last entry or '0-0'}.
HEAD = (
    _ENSURE_META
    + """
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
return {e, n, last and last[1] or '0-0'}
"""
)

# ARGV: epoch, exclusive start id. Returns {epoch or false, n, now in ms, entries after the id}.
SINCE = """
local e = redis.call('HGET', KEYS[2], 'e')
if (not e) or e ~= ARGV[1] then
  return {false}
end
local n = redis.call('HGET', KEYS[2], 'n')
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
return {e, n, ms, redis.call('XRANGE', KEYS[1], '(' .. ARGV[2], '+')}
"""


@attrs.frozen
class Position:
    """A parsed position: the epoch, the message number and its stream id."""

    epoch: str
    number: int
    id: tuple[int, int]

    @classmethod
    def parse(cls, seq: str) -> Position | None:
        """The position ``seq`` names, or None when it is not one of this channel's form."""
        match = _POSITION.fullmatch(seq)
        if match is None:
            return None
        epoch, number, ms, sub = match.groups()
        return cls(epoch, int(number), (int(ms), int(sub)))

    @classmethod
    def of(cls, epoch: bytes | str, number: bytes | int | str, entry_id: bytes | str) -> str:
        """The position string of entry ``entry_id``, number ``number`` of ``epoch``."""
        e = epoch.decode() if isinstance(epoch, bytes) else epoch
        i = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        return f"{e}.{int(number)}.{i}"

    @property
    def stream_id(self) -> str:
        return f"{self.id[0]}-{self.id[1]}"


def parse_id(entry_id: bytes | str) -> tuple[int, int]:
    """A stream id ``"<ms>-<n>"`` as a pair that compares in stream order."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, sub = text.partition("-")
    return int(ms), int(sub or 0)


def keys_of(prefix: str, topic: str) -> tuple[str, str]:
    """The stream key and the meta key of ``topic``, in one hash slot (never an empty tag)."""
    tag = f"tbone:{{t:{prefix}{topic}}}"
    return f"{tag}:s", f"{tag}:m"
