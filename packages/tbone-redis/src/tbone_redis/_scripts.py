"""The Lua scripts that make each write of ``RedisStore`` atomic (one script = one transaction).

Keys of a collection (``KEYS`` in this order): ``docs`` (pk -> document JSON), ``versions``
(pk -> integer), ``uvals`` (pk -> JSON array of the document's unique values, "" for null), then
one ``unique`` hash per unique field (value -> pk). Primary keys and unique values arrive already
encoded as canonical JSON, so equal values are equal strings; "" stands for null (never taken).

Every script checks everything first and writes only if all checks pass, so a refused write
changes nothing. Refusals come back as a table: ``{"dup", field_index, doc_index}`` (field 0 is
the primary key), ``{"missing"}``, ``{"conflict", stored_version}``; success as ``{"ok", version}``.
"""

from __future__ import annotations

__all__ = ["DELETE", "INSERT", "REPLACE"]

# ARGV: n_unique, then per document: pk, doc, n_unique unique values.
INSERT = """
local nu = tonumber(ARGV[1])
local step = 2 + nu
local seen_pk, seen = {}, {}
for u = 1, nu do seen[u] = {} end
for i = 2, #ARGV, step do
  local pk = ARGV[i]
  local n = (i - 2) / step
  if seen_pk[pk] or redis.call('HEXISTS', KEYS[1], pk) == 1 then return {'dup', 0, n} end
  seen_pk[pk] = true
  for u = 1, nu do
    local value = ARGV[i + 1 + u]
    if value ~= '' then
      if seen[u][value] or redis.call('HEXISTS', KEYS[3 + u], value) == 1 then
        return {'dup', u, n}
      end
      seen[u][value] = true
    end
  end
end
for i = 2, #ARGV, step do
  local pk = ARGV[i]
  redis.call('HSET', KEYS[1], pk, ARGV[i + 1])
  redis.call('HSET', KEYS[2], pk, 1)
  if nu > 0 then
    local values = {}
    for u = 1, nu do
      local value = ARGV[i + 1 + u]
      values[u] = value
      if value ~= '' then redis.call('HSET', KEYS[3 + u], value, pk) end
    end
    redis.call('HSET', KEYS[3], pk, cjson.encode(values))
  end
end
return {'ok', 1}
"""

# Shared by REPLACE and DELETE: the stored version, or a refusal.
_CHECK_VERSION = """
local pk, expected = ARGV[1], ARGV[2]
local current = redis.call('HGET', KEYS[2], pk)
if not current then return {'missing'} end
current = tonumber(current)
if expected ~= '' and tonumber(expected) ~= current then return {'conflict', current} end
local nu = #KEYS - 3
local function drop_unique_values()
  if nu == 0 then return end
  local stored = redis.call('HGET', KEYS[3], pk)
  if not stored then return end
  local old = cjson.decode(stored)
  for u = 1, nu do
    local value = old[u]
    if value and value ~= '' and redis.call('HGET', KEYS[3 + u], value) == pk then
      redis.call('HDEL', KEYS[3 + u], value)
    end
  end
end
"""

# ARGV: pk, expected version ("" = any), doc, then the new unique values.
REPLACE = (
    _CHECK_VERSION
    + """
for u = 1, nu do
  local value = ARGV[3 + u]
  if value ~= '' then
    local owner = redis.call('HGET', KEYS[3 + u], value)
    if owner and owner ~= pk then return {'dup', u, 0} end
  end
end
drop_unique_values()
if nu > 0 then
  local values = {}
  for u = 1, nu do
    values[u] = ARGV[3 + u]
    if values[u] ~= '' then redis.call('HSET', KEYS[3 + u], values[u], pk) end
  end
  redis.call('HSET', KEYS[3], pk, cjson.encode(values))
end
redis.call('HSET', KEYS[1], pk, ARGV[3])
redis.call('HSET', KEYS[2], pk, current + 1)
return {'ok', current + 1}
"""
)

# ARGV: pk, expected version ("" = any).
DELETE = (
    _CHECK_VERSION
    + """
drop_unique_values()
redis.call('HDEL', KEYS[1], pk)
redis.call('HDEL', KEYS[2], pk)
redis.call('HDEL', KEYS[3], pk)
return {'ok', current}
"""
)
