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

While a cluster moves the collection's slot to another node (resharding), the nodes may
refuse a script the index keys it did not declare; every write script therefore reaches one
such key (``ix:``, which never exists) before anything else, so that it is refused whole,
never half done.

Every script checks everything first and writes only if all checks pass, so a refused write
changes nothing. Refusals come back as a table: ``{"dup", field_index, doc_index}`` (field 0 is
the primary key), ``{"missing"}``, ``{"conflict", stored_version}``; success as ``{"ok", version}``.
"""

from __future__ import annotations

__all__ = ["DELETE", "FIND", "INSERT", "MARK", "READ", "REINDEX", "REPLACE", "UPDATE_OPS"]

# Shared: the index entries of one document, added and removed; the marker check.
_INDEX = """
local base = string.sub(KEYS[1], 1, -5)
redis.call('EXISTS', base .. 'ix:')
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

# Update operators (``_ops`` builds the arguments): the document's JSON text is edited in place,
# value by value, never decoded and re-encoded whole (cjson would round floats to 14 digits and
# turn empty lists into objects). ARGV: marker, pk, expected version, n_ops, then per operator:
# kind (set/inc/push/add_to_set/pull), n_segments, segments, then
#   set: JSON text
#   inc: amount, is_int, n_bounds, (op, bound)...
#   push, add_to_set: max_length ("" none), n_items, item JSON texts
#   pull: min_length ("" none), n_items, item JSON texts
# (items equal stored elements exactly when their JSON texts are equal: one encoder writes both);
# then n_index, per indexed field: name, mode ("set": its entries as JSON | "int": the 1-based
# operator whose result it takes); then n_unique, per unique field: its position in KEYS after
# 5, mode ("set": the value | "int": the operator). Replies: {'ok', version, before, after};
# {'refused', before} when a limit fails (the caller finds which from the document before);
# {'slow'} when an integer is beyond 2^53 (Lua numbers are doubles: the caller applies it
# exactly itself); and those of _CHECK_VERSION, {'dup', u, 0}.
UPDATE_OPS = (
    _CHECK_VERSION
    + r"""
local function value_end(s, i)
  local c = string.sub(s, i, i)
  if c == '"' then
    local j = i + 1
    while true do
      local q = string.find(s, '["\\]', j)
      if string.sub(s, q, q) == '\\' then j = q + 2 else return q + 1 end
    end
  elseif c == '{' or c == '[' then
    local depth, j = 0, i
    while true do
      local p = string.find(s, '[%[%]{}"]', j)
      local ch = string.sub(s, p, p)
      if ch == '"' then
        j = value_end(s, p)
      else
        if ch == '{' or ch == '[' then depth = depth + 1 else depth = depth - 1 end
        j = p + 1
        if depth == 0 then return j end
      end
    end
  end
  return string.find(s, '[,%]}]', i) or (#s + 1)
end
local function member(s, i, name)
  if string.sub(s, i, i) ~= '{' or string.sub(s, i + 1, i + 1) == '}' then return nil end
  local j, key = i + 1, '"' .. name .. '"'
  while true do
    local kend = value_end(s, j)
    local v = kend + 1
    local vend = value_end(s, v)
    if string.sub(s, j, kend - 1) == key then return v, vend end
    if string.sub(s, vend, vend) == '}' then return nil end
    j = vend + 1
  end
end
local function count(s, i)
  if string.sub(s, i + 1, i + 1) == ']' then return 0 end
  local n, j = 0, i + 1
  while true do
    n = n + 1
    j = value_end(s, j)
    if string.sub(s, j, j) == ']' then return n end
    j = j + 1
  end
end
local function elements(text)
  local out = {}
  if text == '[]' then return out end
  local j = 2
  while true do
    local e = value_end(text, j)
    out[#out + 1] = string.sub(text, j, e - 1)
    if string.sub(text, e, e) == ']' then return out end
    j = e + 1
  end
end
local function fmt_float(x)
  local t = string.format('%.17g', x)
  if not string.find(t, '[%.eEn]') then t = t .. '.0' end
  return t
end
local BIG = 9007199254740992
local doc = redis.call('HGET', KEYS[1], pk)
local before, results, a = doc, {}, 5
for k = 1, tonumber(ARGV[4]) do
  local kind, nseg = ARGV[a], tonumber(ARGV[a + 1])
  local v, vend = 1, #doc + 1
  for g = 1, nseg do
    v, vend = member(doc, v, ARGV[a + 1 + g])
    if v == nil then return {'refused', before} end
  end
  a = a + 2 + nseg
  local text = string.sub(doc, v, vend - 1)
  local new
  if kind == 'set' then
    new = ARGV[a]
    a = a + 1
  elseif kind == 'inc' then
    local amount, is_int, nb = tonumber(ARGV[a]), ARGV[a + 1] == '1', tonumber(ARGV[a + 2])
    local x = tonumber(text)
    if x == nil or not string.find(text, '^%-?%d') then return {'refused', before} end
    if is_int and string.find(text, '[%.eE]') then return {'refused', before} end
    local r = x + amount
    if is_int and (math.abs(x) > BIG or math.abs(r) > BIG) then return {'slow'} end
    if r ~= r or r == math.huge or r == -math.huge then return {'refused', before} end
    for b = 1, nb do
      local op, bound = ARGV[a + 1 + 2 * b], tonumber(ARGV[a + 2 + 2 * b])
      if (op == 'ge' and not (r >= bound)) or (op == 'gt' and not (r > bound))
        or (op == 'le' and not (r <= bound)) or (op == 'lt' and not (r < bound)) then
        return {'refused', before}
      end
    end
    a = a + 3 + 2 * nb
    if is_int then new = string.format('%d', r) else new = fmt_float(r) end
    results[k] = new
  else
    if string.sub(text, 1, 1) ~= '[' then return {'refused', before} end
    local limit, ni = ARGV[a], tonumber(ARGV[a + 1])
    local items = {unpack(ARGV, a + 2, a + 1 + ni)}
    a = a + 2 + ni
    if kind ~= 'push' then
      local held, kept = {}, {}
      for _, e in ipairs(elements(text)) do
        held[e] = true
        kept[#kept + 1] = e
      end
      if kind == 'pull' then
        local gone = {}
        for _, item in ipairs(items) do gone[item] = true end
        local left = {}
        for _, e in ipairs(kept) do if not gone[e] then left[#left + 1] = e end end
        if limit ~= '' and #left < tonumber(limit) then return {'refused', before} end
        items = nil
        new = '[' .. table.concat(left, ',') .. ']'
      else
        local fresh = {}
        for _, item in ipairs(items) do
          if not held[item] then
            held[item] = true
            fresh[#fresh + 1] = item
          end
        end
        items = fresh
        if limit ~= '' and #kept + #items > tonumber(limit) then return {'refused', before} end
      end
    elseif limit ~= '' and count(doc, v) + ni > tonumber(limit) then
      return {'refused', before}
    end
    if items then
      if #items == 0 then new = text
      elseif text == '[]' then new = '[' .. table.concat(items, ',') .. ']'
      else new = string.sub(text, 1, -2) .. ',' .. table.concat(items, ',') .. ']' end
    end
  end
  doc = string.sub(doc, 1, v - 1) .. new .. string.sub(doc, vend)
end
local touched = {}
local nidx = tonumber(ARGV[a])
a = a + 1
local fresh = {}
for i = 1, nidx do
  local name, mode, arg = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  a = a + 3
  touched['ix:' .. name .. ':'] = true
  if mode == 'set' then
    for _, e in ipairs(cjson.decode(arg)) do fresh[#fresh + 1] = e end
  else
    local n = results[tonumber(arg)]
    local prefix = 'ix:' .. name .. ':'
    for _, e in ipairs({'s', prefix .. 'eq:n' .. n, '', 'z', prefix .. 'num', n}) do
      fresh[#fresh + 1] = e
    end
  end
end
local nuniq = tonumber(ARGV[a])
a = a + 1
local uvalues = {}
for i = 1, nuniq do
  local u, mode, arg = tonumber(ARGV[a]), ARGV[a + 1], ARGV[a + 2]
  a = a + 3
  local value = arg
  if mode == 'int' then value = results[tonumber(arg)] end
  if value ~= '' then
    local owner = redis.call('HGET', KEYS[5 + u], value)
    if owner and owner ~= pk then return {'dup', u, 0} end
  end
  uvalues[u] = value
end
check_marker()
if nuniq > 0 then
  local stored_u = redis.call('HGET', KEYS[3], pk)
  local old = {}
  if stored_u then old = cjson.decode(stored_u) end
  for u = 1, nu do if old[u] == nil then old[u] = '' end end
  for u, value in pairs(uvalues) do
    local was = old[u]
    if was and was ~= '' and redis.call('HGET', KEYS[5 + u], was) == pk then
      redis.call('HDEL', KEYS[5 + u], was)
    end
    if value ~= '' then redis.call('HSET', KEYS[5 + u], value, pk) end
    old[u] = value
  end
  redis.call('HSET', KEYS[3], pk, cjson.encode(old))
end
if nidx > 0 then
  local entries = {}
  local stored = redis.call('HGET', KEYS[4], pk)
  if stored then
    local e = cjson.decode(stored)
    for j = 1, #e, 3 do
      local key = e[j + 1]
      local keep = true
      for prefix in pairs(touched) do
        if string.sub(key, 1, #prefix) == prefix then keep = false end
      end
      if keep then
        entries[#entries + 1] = e[j]
        entries[#entries + 1] = e[j + 1]
        entries[#entries + 1] = e[j + 2]
      end
    end
  end
  for _, e in ipairs(fresh) do entries[#entries + 1] = e end
  reindex(pk, cjson.encode(entries))
end
redis.call('HSET', KEYS[1], pk, doc)
redis.call('HSET', KEYS[2], pk, current + 1)
return {'ok', current + 1, before, doc}
"""
)


# The documents and versions of the primary keys in ARGV (all of them when there are none), as
# two lists read in one step: on a Redis Cluster, where this replaces the MULTI of HMGETs or
# HGETALLs a single server runs (redis-py's cluster transactions cost a millisecond more). KEYS:
# docs, versions. Reply: {docs, versions}, HGETALL's flat lists or HMGET's (false = missing).
READ = """
if #ARGV == 0 then
  return {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
end
local docs, versions = {}, {}
for s = 1, #ARGV, 500 do
  local chunk = {}
  for j = s, math.min(s + 499, #ARGV) do chunk[#chunk + 1] = ARGV[j] end
  for _, d in ipairs(redis.call('HMGET', KEYS[1], unpack(chunk))) do docs[#docs + 1] = d end
  for _, v in ipairs(redis.call('HMGET', KEYS[2], unpack(chunk))) do versions[#versions + 1] = v end
end
return {docs, versions}
"""
