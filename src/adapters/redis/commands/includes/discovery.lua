--[[
  Discovery of a limit nobody configured, per (scope, dimension), in the
  scope's state hash. The same state machine as src/core/discovery.ts
  (storedAdmittedLimit / storedDiscoveryStep over admittedLimit /
  discoveryStep / initialDiscovery); test/contract/discovery.test.ts replays
  the same event sequences against both.

  Fields, `d.<dim>.<x>` for a dimension named <dim> ('rpm', 'tpm', ...):
    l  limit, fractional between whole steps      f  floor
    p  phase: 's' slow start | 'a' additive | 'e' exact
    c  ceiling (absent: none)                     q  last quota 429 at, ms (absent: none)
    x  last cut at, ms (absent: none)             s  since, ms
  Nothing is stored until an event changes the state: a dimension without
  `l` reads as the initial state at the floor the caller passes, so the
  admission path never writes. Numbers are written with 17 significant
  digits: a double read back is the double written.

  The clock is passed in (`now`, ms): these functions never call TIME.

  ARGV conventions of the calling scripts:
    params, 5 values in this order (discoveryParams(ARGV, i) reads them):
      windowMs, quietMs, nearFraction, margin, stepFraction
      (admission needs only quietMs)
    an event, 4 values: kind ('success' | 'quota429' | 'other429'), used,
      amount, quotaValue; '' when absent (used is required for a success,
      amount defaults to 1, a quotaValue that is not a finite number >= 0
      counts as absent)
    per discovered dimension: its name and its floor (the safe default the
      catalog gives; the stored floor wins once something is stored)
  adapters/redis/discovery-fields.ts formats these and reads the fields back.

  Functions (hash: the scope's state hash, from KEYS; dim: 'rpm', 'tpm', ...):
    discoveryFields(dim) -> {limit field, last-429 field}
      what admission adds to the HMGET it already makes on the scope's hash
    discoveryAdmittedOf(rawLimit, rawLast429, floor, now, quietMs) -> whole limit to admit
      from those two raw HMGET values (false when absent); never writes
    discoveryAdmitted(hash, dim, floor, now, quietMs) -> the same, reading the hash itself
    discoveryParams(ARGV, i) -> params table from ARGV[i .. i+4]
    discoveryStep(hash, dim, kind, used, amount, quotaValue, floor, now, p) -> 1 | 0
      one event (numbers or nil; p from discoveryParams); writes only the
      fields that changed, all of them on the first change; 1 when it wrote
]]

local DISCOVERY_KEYS = { 'l', 'f', 'p', 'c', 'q', 'x', 's' }

local function discoveryField(dim, x) return 'd.' .. dim .. '.' .. x end

local function discoveryFields(dim) return { discoveryField(dim, 'l'), discoveryField(dim, 'q') } end

local function discoveryParams(argv, i)
  return {
    windowMs = tonumber(argv[i]), quietMs = tonumber(argv[i + 1]), nearFraction = tonumber(argv[i + 2]),
    margin = tonumber(argv[i + 3]), stepFraction = tonumber(argv[i + 4]),
  }
end

local function discoveryQuiet(last429, now, quietMs) return last429 == nil or now - last429 >= quietMs end

local function discoveryWhole(limit, last429, now, quietMs)
  local whole = math.floor(limit)
  -- a zero limit admits one call once the quiet period has passed, to retry it
  if whole == 0 and last429 ~= nil and discoveryQuiet(last429, now, quietMs) then return 1 end
  return whole
end

local function discoveryAdmittedOf(rawLimit, rawLast429, floor, now, quietMs)
  local limit = tonumber(rawLimit)
  if limit == nil then return math.max(0, math.floor(floor)) end
  return discoveryWhole(limit, tonumber(rawLast429), now, quietMs)
end

local function discoveryAdmitted(hash, dim, floor, now, quietMs)
  local raw = redis.call('HMGET', hash, discoveryField(dim, 'l'), discoveryField(dim, 'q'))
  return discoveryAdmittedOf(raw[1], raw[2], floor, now, quietMs)
end

local function discoveryCopy(s)
  local t = {}
  for k, v in pairs(s) do t[k] = v end
  return t
end

local function discoveryOn429(s, used, amount, quotaValue, now, p)
  local t = discoveryCopy(s)
  -- NaN fails both comparisons, as Number.isFinite rejects it
  if quotaValue ~= nil and quotaValue >= 0 and quotaValue < math.huge then
    local exact = math.floor(quotaValue)
    t.l, t.p, t.c, t.q, t.x = exact, 'e', exact, now, now
    return t
  end
  local level
  if used ~= nil then level = math.floor(used - (amount or 1)) else level = math.floor(s.l) end
  level = math.max(s.f, level)
  if s.x ~= nil and now - s.x < p.windowMs then
    -- sent under the limit we already cut: no second cut, but its level still bounds the real limit
    t.c = math.min(s.c or level, level)
    t.q = now
    return t
  end
  t.l, t.p, t.c, t.q, t.x = math.max(s.f, math.floor(s.l / 2)), 'a', level, now, now
  return t
end

local function discoveryOnSuccess(s, used, amount, now, p)
  local admitted = discoveryWhole(s.l, s.q, now, p.quietMs)
  amount = math.max(0, amount or 1)
  if amount == 0 or used < p.nearFraction * admitted then return s end
  local t = discoveryCopy(s)
  if s.p == 's' then
    t.l = s.l + amount
    return t
  end
  -- a quiet period without a 429: the project may have moved to a higher tier; probe as at the start
  if s.q ~= nil and discoveryQuiet(s.q, now, p.quietMs) then
    t.l, t.p, t.c = math.max(s.l, admitted) + amount, 's', nil
    return t
  end
  local ceiling = s.c or math.max(s.f, admitted)
  local step = math.max(1, math.ceil(ceiling * p.stepFraction))
  local cap
  if discoveryQuiet(s.q, now, p.quietMs) then
    cap = math.huge
  elseif s.p == 'e' then
    cap = ceiling
  else
    cap = math.max(s.f, math.floor(ceiling * (1 - p.margin)))
  end
  -- a window's worth of successes (about `admitted` amount) adds one step
  local nxt = math.min(cap, math.max(s.l, admitted) + (amount * step) / math.max(1, admitted))
  if nxt > s.l then
    t.l = nxt
    return t
  end
  return s
end

local function discoveryRead(hash, dim)
  local names = {}
  for i, x in ipairs(DISCOVERY_KEYS) do names[i] = discoveryField(dim, x) end
  local raw = redis.call('HMGET', hash, unpack(names))
  if not raw[1] then return nil end
  return {
    l = tonumber(raw[1]), f = tonumber(raw[2]), p = raw[3], c = tonumber(raw[4]),
    q = tonumber(raw[5]), x = tonumber(raw[6]), s = tonumber(raw[7]),
  }
end

local function discoveryWrite(hash, dim, old, new)
  local set, del = {}, {}
  for _, x in ipairs(DISCOVERY_KEYS) do
    local v = new[x]
    if v == nil then
      if old ~= nil and old[x] ~= nil then del[#del + 1] = discoveryField(dim, x) end
    elseif old == nil or v ~= old[x] then
      set[#set + 1] = discoveryField(dim, x)
      if type(v) == 'number' then v = string.format('%.17g', v) end
      set[#set + 1] = v
    end
  end
  if #set > 0 then redis.call('HSET', hash, unpack(set)) end
  if #del > 0 then redis.call('HDEL', hash, unpack(del)) end
end

local function discoveryStep(hash, dim, kind, used, amount, quotaValue, floor, now, p)
  local stored = discoveryRead(hash, dim)
  local s = stored
  if s == nil then
    local f = math.max(0, math.floor(floor))
    s = { l = f, f = f, p = 's', s = now }
  end
  local t = s
  if kind == 'quota429' then
    t = discoveryOn429(s, used, amount, quotaValue, now, p)
  elseif kind == 'success' then
    t = discoveryOnSuccess(s, used, amount, now, p)
  end
  if t == s then return 0 end
  discoveryWrite(hash, dim, stored, t)
  return 1
end
