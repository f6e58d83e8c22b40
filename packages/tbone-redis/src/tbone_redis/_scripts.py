"""The Lua scripts of ``RedisStore``: each write is one script, so one transaction.

Keys of a collection (``KEYS`` in this order): ``docs`` (pk -> document JSON), ``versions``
(pk -> integer), ``uvals`` (pk -> JSON array of the document's unique values, "" for null),
``ivals`` (pk -> JSON array of its index entries, see ``_index``), ``meta`` (``index`` -> the
marker of the index definition the index keys are complete for), then one ``unique`` hash per
unique field (value -> pk). Primary keys and unique values arrive already encoded as canonical
JSON, so equal values are equal strings; "" stands for null (never taken).

Index keys (``ix:...``) are named in the entries, not in ``KEYS``: they share the collection's
``{name}`` hash tag, so they live in its Redis Cluster slot. Every write keeps them exact in the
same script as the write. A writer whose index definition (its marker, ``ARGV[1]``) is not the
collection's marks the indexes ``stale``, and finds scan until ``prepare`` rebuilds them.

Every script checks everything first and writes only if all checks pass, so a refused write
changes nothing. Refusals come back as a table: ``{"dup", field_index, doc_index}`` (field 0 is
the primary key), ``{"missing"}``, ``{"conflict", stored_version}``; success as ``{"ok", version}``.
"""

from __future__ import annotations

__all__ = ["DELETE", "FIND", "INSERT", "MARK", "REINDEX", "REPLACE"]

# Shared: the index entries of one document, added and removed; the marker check.
_INDEX = """
local base = string.sub(KEYS[1], 1, -5)
local function unindex(pk)
  local stored = redis.call('HGET', KEYS[4], pk)
  if not stored then return end
  local e = cjson.decode(stored)
  for j = 1, #e, 3 do
    if e[j] == 's' then redis.call('SREM', base .. e[j + 1], pk)
    elseif e[j] == 'z' then redis.call('ZREM', base .. e[j + 1], pk)
    else redis.call('ZREM', base .. e[j + 1], e[j + 2]) end
  end
  redis.call('HDEL', KEYS[4], pk)
end
local function index(pk, entries)
  if entries == '' then return end
  local e = cjson.decode(entries)
  for j = 1, #e, 3 do
    if e[j] == 's' then redis.call('SADD', base .. e[j + 1], pk)
    elseif e[j] == 'z' then redis.call('ZADD', base .. e[j + 1], e[j + 2], pk)
    else redis.call('ZADD', base .. e[j + 1], 0, e[j + 2]) end
  end
  redis.call('HSET', KEYS[4], pk, entries)
end
local function reindex(pk, entries)
  if redis.call('HGET', KEYS[4], pk) == entries then return end
  unindex(pk)
  index(pk, entries)
end
local function check_marker()
  local current = redis.call('HGET', KEYS[5], 'index')
  if current ~= ARGV[1] and current ~= '~' .. ARGV[1] and current ~= 'stale' then
    redis.call('HSET', KEYS[5], 'index', 'stale')
  end
end
"""

# ARGV: marker, n_unique, then per document: pk, doc, index entries, n_unique unique values.
INSERT = (
    _INDEX
    + """
local nu = tonumber(ARGV[2])
local step = 3 + nu
local seen_pk, seen = {}, {}
for u = 1, nu do seen[u] = {} end
for i = 3, #ARGV, step do
  local pk = ARGV[i]
  local n = (i - 3) / step
  if seen_pk[pk] or redis.call('HEXISTS', KEYS[1], pk) == 1 then return {'dup', 0, n} end
  seen_pk[pk] = true
  for u = 1, nu do
    local value = ARGV[i + 2 + u]
    if value ~= '' then
      if seen[u][value] or redis.call('HEXISTS', KEYS[5 + u], value) == 1 then
        return {'dup', u, n}
      end
      seen[u][value] = true
    end
  end
end
check_marker()
for i = 3, #ARGV, step do
  local pk = ARGV[i]
  redis.call('HSET', KEYS[1], pk, ARGV[i + 1])
  redis.call('HSET', KEYS[2], pk, 1)
  reindex(pk, ARGV[i + 2])
  if nu > 0 then
    local values = {}
    for u = 1, nu do
      local value = ARGV[i + 2 + u]
      values[u] = value
      if value ~= '' then redis.call('HSET', KEYS[5 + u], value, pk) end
    end
    redis.call('HSET', KEYS[3], pk, cjson.encode(values))
  end
end
return {'ok', 1}
"""
)

# Shared by REPLACE and DELETE: the stored version, or a refusal.
_CHECK_VERSION = (
    _INDEX
    + """
local pk, expected = ARGV[2], ARGV[3]
local current = redis.call('HGET', KEYS[2], pk)
if not current then return {'missing'} end
current = tonumber(current)
if expected ~= '' and tonumber(expected) ~= current then return {'conflict', current} end
local nu = #KEYS - 5
local function drop_unique_values()
  if nu == 0 then return end
  local stored = redis.call('HGET', KEYS[3], pk)
  if not stored then return end
  local old = cjson.decode(stored)
  for u = 1, nu do
    local value = old[u]
    if value and value ~= '' and redis.call('HGET', KEYS[5 + u], value) == pk then
      redis.call('HDEL', KEYS[5 + u], value)
    end
  end
end
"""
)

# ARGV: marker, pk, expected version ("" = any), doc, index entries, then the unique values.
REPLACE = (
    _CHECK_VERSION
    + """
for u = 1, nu do
  local value = ARGV[5 + u]
  if value ~= '' then
    local owner = redis.call('HGET', KEYS[5 + u], value)
    if owner and owner ~= pk then return {'dup', u, 0} end
  end
end
check_marker()
drop_unique_values()
if nu > 0 then
  local values = {}
  for u = 1, nu do
    values[u] = ARGV[5 + u]
    if values[u] ~= '' then redis.call('HSET', KEYS[5 + u], values[u], pk) end
  end
  redis.call('HSET', KEYS[3], pk, cjson.encode(values))
end
reindex(pk, ARGV[5])
redis.call('HSET', KEYS[1], pk, ARGV[4])
redis.call('HSET', KEYS[2], pk, current + 1)
return {'ok', current + 1}
"""
)

# ARGV: marker, pk, expected version ("" = any).
DELETE = (
    _CHECK_VERSION
    + """
check_marker()
drop_unique_values()
unindex(pk)
redis.call('HDEL', KEYS[1], pk)
redis.call('HDEL', KEYS[2], pk)
redis.call('HDEL', KEYS[3], pk)
return {'ok', current}
"""
)

# Rebuilding the indexes (``prepare``). ARGV: marker, then triples pk, doc, entries: the entries
# are written only if the document is still the one read (a concurrent write indexed it itself);
# a doc of "" drops the entries of a pk whose document is gone.
REINDEX = (
    _INDEX
    + """
for i = 2, #ARGV, 3 do
  local pk, doc = ARGV[i], ARGV[i + 1]
  local stored = redis.call('HGET', KEYS[1], pk)
  if doc == '' then
    if not stored then unindex(pk) end
  elseif stored == doc then
    reindex(pk, ARGV[i + 2])
  end
end
return 1
"""
)

# KEYS: meta. ARGV: expected marker, new marker. Compare and set; 1 if it was set.
MARK = """
if redis.call('HGET', KEYS[1], 'index') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'index', ARGV[2])
return 1
"""

# KEYS: docs, versions, meta. ARGV: marker, scan_above, then probes ``kind, n, args...`` (see
# ``_plan``). Measures every probe, reads the documents of the smallest; {'scan'} when none can
# be used (indexes not complete for this marker) or the smallest holds more than scan_above of
# the collection (reading it all in one HGETALL is then cheaper).
FIND = """
local base = string.sub(KEYS[1], 1, -5)
local indexed = redis.call('HGET', KEYS[3], 'index') == ARGV[1]
local best, best_cost
local i = 3
while i <= #ARGV do
  local kind, n = ARGV[i], tonumber(ARGV[i + 1])
  local first = i + 2
  i = first + n
  local cost
  if kind == 'pk' then
    cost = n
  elseif indexed and kind == 'eq' then
    cost = 0
    for j = first, first + n - 1 do cost = cost + redis.call('SCARD', base .. ARGV[j]) end
  elseif indexed and kind == 'num' then
    cost = redis.call('ZCOUNT', base .. ARGV[first], ARGV[first + 1], ARGV[first + 2])
  elseif indexed and kind == 'lex' then
    cost = redis.call('ZLEXCOUNT', base .. ARGV[first], ARGV[first + 1], ARGV[first + 2])
  end
  if cost and (best_cost == nil or cost < best_cost) then
    best, best_cost = {kind, first, n}, cost
  end
end
if best == nil then return {'scan'} end
local kind, first, n = best[1], best[2], best[3]
if kind ~= 'pk' and best_cost > tonumber(ARGV[2]) * redis.call('HLEN', KEYS[1]) then
  return {'scan'}
end
local pks = {}
if kind == 'pk' then
  for j = first, first + n - 1 do pks[#pks + 1] = ARGV[j] end
elseif kind == 'eq' then
  local keys = {}
  for j = first, first + n - 1 do keys[#keys + 1] = base .. ARGV[j] end
  pks = redis.call('SUNION', unpack(keys))
elseif kind == 'num' then
  pks = redis.call('ZRANGEBYSCORE', base .. ARGV[first], ARGV[first + 1], ARGV[first + 2])
else
  local members = redis.call('ZRANGEBYLEX', base .. ARGV[first], ARGV[first + 1], ARGV[first + 2])
  for _, m in ipairs(members) do pks[#pks + 1] = string.match(m, '%z([^%z]*)$') end
end
local out = {'ok'}
for s = 1, #pks, 500 do
  local chunk = {}
  for j = s, math.min(s + 499, #pks) do chunk[#chunk + 1] = pks[j] end
  local docs = redis.call('HMGET', KEYS[1], unpack(chunk))
  local versions = redis.call('HMGET', KEYS[2], unpack(chunk))
  for j = 1, #chunk do
    if docs[j] and versions[j] then
      out[#out + 1] = docs[j]
      out[#out + 1] = versions[j]
    end
  end
end
return out
"""
