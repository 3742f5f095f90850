--[[
  A sliding window of reservations: a sorted set of reservation ids scored by
  time (`w`) and a hash (`t`) holding each reservation's costs in the window
  dimensions, comma-separated. The running sums `_1`.._n and `wo` live in a
  hash of their own (`sk`): a scope's state hash, so one read per candidate
  gets its blocks, breaker and usage; for a tenant its costs hash.

  `wo` is the cutoff of the last trim: no entry at or before it is left. An
  admission trims only when that is `trimSlack` old, or when the request
  does not fit (then the answer must be exact). Between trims the sums still
  hold entries that left the window less than `trimSlack` ago: they can only
  over-count, so a request that fits them fits the exact window.
]]

local function parseCosts(text, ndims)
  local out, i = {}, 1
  for v in string.gmatch(text or '', '[^,]+') do
    out[i] = tonumber(v)
    i = i + 1
  end
  for d = 1, ndims do out[d] = out[d] or 0 end
  return out
end

local function addSums(sk, costs, sign, ndims)
  for d = 1, ndims do
    if costs[d] ~= 0 then redis.call('HINCRBY', sk, '_' .. d, sign * costs[d]) end
  end
end

-- HSET arguments that set the running sums to sums + costs
local function sumFields(sums, costs, ndims)
  local out = {}
  for d = 1, ndims do
    out[#out + 1] = '_' .. d
    out[#out + 1] = sums[d] + costs[d]
  end
  return out
end

-- the field names of the running sums and the trim mark, in the order sumsOf reads them
local function sumNames(ndims)
  local out = {}
  for d = 1, ndims do out[d] = '_' .. d end
  out[ndims + 1] = 'wo'
  return out
end

-- how stale the sums may get between trims: 1 s of a 60 s window
local function trimSlack(window)
  return math.max(1, math.floor(window / 60))
end

local function windowSums(sk, ndims)
  local raw = redis.call('HMGET', sk, unpack(sumNames(ndims)))
  local out = {}
  for d = 1, ndims do out[d] = tonumber(raw[d]) or 0 end
  return out
end

-- drops the entries older than the window from w and t; returns their summed costs per dimension
local function dropExpired(w, t, cutoff, ndims)
  local total = {}
  for d = 1, ndims do total[d] = 0 end
  while true do
    local old = redis.call('ZRANGEBYSCORE', w, '-inf', cutoff, 'LIMIT', 0, 500)
    if #old == 0 then return total end
    local vals = redis.call('HMGET', t, unpack(old))
    for j = 1, #vals do
      local c = parseCosts(vals[j], ndims)
      for d = 1, ndims do total[d] = total[d] + c[d] end
    end
    redis.call('HDEL', t, unpack(old))
    redis.call('ZREM', w, unpack(old))
    if #old < 500 then return total end
  end
end

-- the sums and the trim mark from fields read in sumNames' order, starting at index i
local function sumsOf(raw, i, ndims)
  local sums = {}
  for d = 1, ndims do sums[d] = tonumber(raw[i + d - 1]) or 0 end
  return sums, tonumber(raw[i + ndims])
end

-- whether an admission at `now` trims first: always when it needs the exact sums, else once the mark is trimSlack old
local function trimDue(wo, now, window, exact)
  if wo == nil then return true end
  local cutoff = now - window
  if wo >= cutoff then return false end
  return exact or cutoff - wo >= trimSlack(window)
end

--[[
  Trims the window at `now` and returns the exact sums, written back to `sk`
  with the new mark; renews the keys' ttl (a caller that creates them after
  this sets it again). `legacy`: the hash that held the sums before they
  moved to `sk`, read once when `sk` had never been trimmed (else nil).
]]
local function trimNow(w, t, sk, sums, now, window, ndims, legacy)
  local cutoff = now - window
  if legacy then
    local names = sumNames(ndims)
    names[ndims + 1] = nil
    local old = redis.call('HMGET', legacy, unpack(names))
    local any = false
    for d = 1, ndims do
      if old[d] then any = true end
    end
    if any then
      for d = 1, ndims do sums[d] = tonumber(old[d]) or 0 end
      redis.call('HDEL', legacy, unpack(names))
    end
  end
  local gone = dropExpired(w, t, cutoff, ndims)
  local fields = {}
  -- an empty window holds nothing, whatever the sums say (its keys may have expired while idle)
  local empty = redis.call('ZCARD', w) == 0
  for d = 1, ndims do
    sums[d] = empty and 0 or sums[d] - gone[d]
    fields[#fields + 1] = '_' .. d
    fields[#fields + 1] = sums[d]
  end
  fields[#fields + 1] = 'wo'
  fields[#fields + 1] = cutoff
  redis.call('HSET', sk, unpack(fields))
  redis.call('PEXPIRE', w, window + 60000)
  redis.call('PEXPIRE', t, window + 60000)
  return sums
end

--[[
  The window's sums for a request of `costs` under limits `lim` (0: none),
  from the sums and mark as read: trimmed when the trim is due, and trimmed
  to the exact window when the request does not fit them. Returns the sums
  and whether this call trimmed (and so renewed the keys' ttl). `legacy`: see
  trimNow, used only when the mark was never set.
]]
local function sumsFor(w, t, sk, sums, wo, now, window, ndims, costs, lim, legacy)
  local trimmed = false
  if trimDue(wo, now, window, false) then
    if wo ~= nil then legacy = nil end
    sums = trimNow(w, t, sk, sums, now, window, ndims, legacy)
    wo, trimmed = now - window, true
  end
  -- over a limit on sums that may still hold entries past the window: the exact sums decide
  if trimDue(wo, now, window, true) then
    for d = 1, ndims do
      if lim[d] > 0 and sums[d] + costs[d] > lim[d] then return trimNow(w, t, sk, sums, now, window, ndims, nil), true end
    end
  end
  return sums, trimmed
end

-- the instant enough of dimension d leaves the window for `need` more to fit (the window trimmed)
local function freedBy(w, t, d, need, unit, window, ndims)
  if unit then
    local e = redis.call('ZRANGE', w, need - 1, need - 1, 'WITHSCORES')
    if e[2] == nil then return nil end
    return tonumber(e[2]) + window
  end
  local acc, idx = 0, 0
  while true do
    local batch = redis.call('ZRANGE', w, idx, idx + 99, 'WITHSCORES')
    if #batch == 0 then return nil end
    local ids = {}
    for j = 1, #batch, 2 do ids[#ids + 1] = batch[j] end
    local vals = redis.call('HMGET', t, unpack(ids))
    for j = 1, #ids do
      acc = acc + parseCosts(vals[j], ndims)[d]
      if acc >= need then return tonumber(batch[j * 2]) + window end
    end
    idx = idx + 100
  end
end
