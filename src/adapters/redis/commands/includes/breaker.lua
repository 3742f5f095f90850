--[[
  The circuit breaker of one (project, model), in the scope's state hash:
    b   'o' open | 'h' half open | absent = closed
    bf  consecutive failures while closed
    bu  open until (ms)     bp  probe sent at (ms)
  The same transitions as src/core/breaker.ts; test/contract/breaker.test.ts
  replays the same event sequences against both.
]]

-- when the breaker lets a request through (<= now: now), from its fields b, bu, bp as read
local function breakerFreeAtOf(b, bu, bp, now, probeTimeout)
  if b == 'o' then return tonumber(bu) or now end
  if b == 'h' then return (tonumber(bp) or 0) + probeTimeout end
  return now
end

-- a request goes through: past its open period it is the one probe; 1 when it is
-- (b, bu, bp as read in this same step)
local function breakerPassOf(st, b, bu, bp, now, probeTimeout)
  if (b == 'o' and now >= (tonumber(bu) or 0)) or (b == 'h' and now - (tonumber(bp) or 0) >= probeTimeout) then
    redis.call('HSET', st, 'b', 'h', 'bp', now)
    redis.call('HDEL', st, 'bu')
    return 1
  end
  return 0
end

-- the same, reading the fields themselves
local function breakerFreeAt(st, now, probeTimeout)
  local b = redis.call('HMGET', st, 'b', 'bu', 'bp')
  return breakerFreeAtOf(b[1], b[2], b[3], now, probeTimeout)
end

local function breakerPass(st, now, probeTimeout)
  local b = redis.call('HMGET', st, 'b', 'bu', 'bp')
  return breakerPassOf(st, b[1], b[2], b[3], now, probeTimeout)
end

local function breakerOpen(st, now, openMs)
  redis.call('HSET', st, 'b', 'o', 'bu', now + openMs, 'bf', 0)
  redis.call('HDEL', st, 'bp')
end

-- how a call that counts against the model ended; returns 1 when this opened the breaker
-- (b, bu, bf as read in this same step)
local function breakerReportOf(st, b1, b2, b3, event, now, threshold, openMs)
  local b = { b1, b2, b3 }
  if b[1] == 'o' and now < (tonumber(b[2]) or 0) then return 0 end
  if event == 'success' then
    if b[1] ~= false or (tonumber(b[3]) or 0) > 0 then redis.call('HDEL', st, 'b', 'bu', 'bp', 'bf') end
    return 0
  end
  if b[1] == 'o' or b[1] == 'h' then
    breakerOpen(st, now, openMs)
    return 1
  end
  local fails = (tonumber(b[3]) or 0) + 1
  if fails >= threshold then
    breakerOpen(st, now, openMs)
    return 1
  end
  redis.call('HSET', st, 'bf', fails)
  return 0
end

-- the same, reading the fields itself
local function breakerReport(st, event, now, threshold, openMs)
  local b = redis.call('HMGET', st, 'b', 'bu', 'bf')
  return breakerReportOf(st, b[1], b[2], b[3], event, now, threshold, openMs)
end
