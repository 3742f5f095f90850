--[[
  Availability blocks are "until" instants (Redis ms) kept in hash fields:
  a scope's cooldown and day exclusion, a model-wide block, the global
  backoff. -1 means "until cleared". NEVER marks a wait with no end.
]]
local NEVER = -1

-- when a block ends: `now` when absent or over, NEVER when it has no end
local function blockEnds(untilValue, now)
  local u = tonumber(untilValue)
  if u == nil then return now end
  if u == -1 then return NEVER end
  if u > now then return u end
  return now
end

-- the later of two instants, NEVER winning
local function later(a, b)
  if a == NEVER or b == NEVER then return NEVER end
  if a > b then return a end
  return b
end

-- sets a block that only ever lengthens; ttl <= 0 = until cleared; 1 when it changed
local function lengthenBlock(key, field, ttl, reason, now)
  local cur = tonumber(redis.call('HGET', key, field))
  if cur == -1 then return 0 end
  local untilValue = -1
  if ttl > 0 then untilValue = now + ttl end
  if untilValue ~= -1 and cur ~= nil and cur >= untilValue then
    -- a day the ledger ran out of ('rpd_full') yields to its RPD pool (see admit.lua); a day
    -- exclusion for any other reason must not, so its reason replaces that one
    if field == 'day' and reason ~= 'rpd_full' and redis.call('HGET', key, 'day_r') == 'rpd_full' then
      redis.call('HSET', key, 'day_r', reason)
      return 1
    end
    return 0
  end
  redis.call('HSET', key, field, untilValue, field .. '_r', reason)
  return 1
end
