--[[
  A sliding window of reservations per scope: a sorted set of reservation
  ids scored by time (`w`) and a hash (`t`) holding each reservation's costs
  in the window dimensions, comma-separated, plus running sums `_1`.._n.
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

local function addSums(t, costs, sign, ndims)
  for d = 1, ndims do
    if costs[d] ~= 0 then redis.call('HINCRBY', t, '_' .. d, sign * costs[d]) end
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

-- drops reservations older than the window, keeping the sums exact
local function trimWindow(w, t, now, window, ndims)
  local cutoff = now - window
  while true do
    local old = redis.call('ZRANGEBYSCORE', w, '-inf', cutoff, 'LIMIT', 0, 500)
    if #old == 0 then return end
    local vals = redis.call('HMGET', t, unpack(old))
    local total = {}
    for d = 1, ndims do total[d] = 0 end
    for j = 1, #vals do
      local c = parseCosts(vals[j], ndims)
      for d = 1, ndims do total[d] = total[d] + c[d] end
    end
    addSums(t, total, -1, ndims)
    redis.call('HDEL', t, unpack(old))
    redis.call('ZREM', w, unpack(old))
  end
end

local function windowSums(t, ndims)
  local fields = {}
  for d = 1, ndims do fields[d] = '_' .. d end
  local raw = redis.call('HMGET', t, unpack(fields))
  local out = {}
  for d = 1, ndims do out[d] = tonumber(raw[d]) or 0 end
  return out
end

-- the instant enough of dimension d leaves the window for `need` more to fit
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
