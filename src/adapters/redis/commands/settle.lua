--[[
  Settles a reservation once its call is over, reports the call to the
  scope's circuit breaker and, for a tenant, corrects its counters — in one
  round trip.

  'settle': the costs become what upstream really counted, and the entry is
  re-stamped with the completion time. Upstream counted the request when it
  arrived, which is after our admission and before completion, so the
  re-stamped entry leaves our window no earlier than it leaves upstream's:
  conservative, never permissive. 'release' drops a reservation whose call
  was never made (and gives the tenant's day back its request). A
  reservation that already left the window is left alone.

  Input:
    KEYS[1] window zset   KEYS[2] costs hash   KEYS[3] scope state hash
    with a tenant: KEYS[4] its window zset, KEYS[5] its costs hash, KEYS[6] its day hash, KEYS[7] its month hash
    last, with an RPD return: the scope's RPD pool of the day
    ARGV[1] reservation id   ARGV[2] 'settle' | 'release'   ARGV[3] window ms
    ARGV[4] n = window dimensions, then n actual costs
    then    breaker event ('success' | 'failure' | 'none'), failure threshold, open ms
    then    tenant ('1' | '0'), central ('1' | '0'), day token correction, month cost (micro-USD)
    then    discovery: event ('success' | 'quota429' | 'other429' | 'none'), the index of the dimension a
            quota 429 was about (0: none), its quotaValue ('' when absent), then per dimension: its name,
            '1' when discovered, its floor; then the 5 discovery params (see includes/discovery)
    last    RPD return: the pool's ttl ms ('0': none); a released reservation whose request of the
            day came from the pool (or the ledger) gives it back to the pool, for the next admission
  Output:
    {found, opened, monthCost}  found = 1 when the reservation was still in the window;
                                opened = 1 when this report opened the breaker;
                                monthCost = the tenant's month spend after this call (micro-USD)
]]
--- @include "includes/now"
--- @include "includes/window"
--- @include "includes/breaker"
--- @include "includes/discovery"

local now = redisNow()
local ndims = tonumber(ARGV[4])
local actual = {}
for d = 1, ndims do actual[d] = tonumber(ARGV[4 + d]) end
local b = 5 + ndims
local event = ARGV[b]
local opened = 0
if event == 'success' or event == 'failure' then
  opened = breakerReport(KEYS[3], event, now, tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]))
end
local hasTenant, central = ARGV[b + 3] == '1', ARGV[b + 4] == '1'
local tokenDelta, cost = tonumber(ARGV[b + 5]), tonumber(ARGV[b + 6])
local release = ARGV[2] == 'release'

-- one reservation in one window: dropped, or corrected and re-stamped; 1 when it was there
local function restamp(w, t)
  local held = redis.call('HGET', t, ARGV[1])
  if not held then return 0 end
  local before = parseCosts(held, ndims)
  if release then
    redis.call('ZREM', w, ARGV[1])
    redis.call('HDEL', t, ARGV[1])
    addSums(t, before, -1, ndims)
    return 1
  end
  local delta = {}
  for d = 1, ndims do delta[d] = actual[d] - before[d] end
  redis.call('HSET', t, ARGV[1], table.concat(actual, ','))
  addSums(t, delta, 1, ndims)
  redis.call('ZADD', w, 'XX', now, ARGV[1])
  local ttl = tonumber(ARGV[3]) + 60000
  redis.call('PEXPIRE', w, ttl)
  redis.call('PEXPIRE', t, ttl)
  return 1
end

local found = restamp(KEYS[1], KEYS[2])
local monthCost = 0
if hasTenant then
  local tenantFound = restamp(KEYS[4], KEYS[5])
  if release and tenantFound == 1 then
    redis.call('HINCRBY', KEYS[6], 'req', -1)
    if central then redis.call('HINCRBY', KEYS[6], 'creq', -1) end
  end
  if tokenDelta ~= 0 then
    redis.call('HINCRBY', KEYS[6], 'tok', tokenDelta)
    if central then redis.call('HINCRBY', KEYS[6], 'ctok', tokenDelta) end
  end
  if cost > 0 then
    monthCost = redis.call('HINCRBY', KEYS[7], 'cost', cost)
    redis.call('PEXPIRE', KEYS[7], 40 * 86400000)
  else
    monthCost = tonumber(redis.call('HGET', KEYS[7], 'cost')) or 0
  end
end
local poolTtl = tonumber(ARGV[#ARGV])
if release and poolTtl > 0 then
  redis.call('INCR', KEYS[#KEYS])
  redis.call('PEXPIRE', KEYS[#KEYS], poolTtl)
end
-- discovery learns from how the call ended, on the window as it now is
local di = b + 7
local kind, quotaDim, quotaValue = ARGV[di], tonumber(ARGV[di + 1]), tonumber(ARGV[di + 2])
if (kind == 'success' or kind == 'quota429') and not release then
  local p = discoveryParams(ARGV, di + 3 + 3 * ndims)
  local sums = windowSums(KEYS[2], ndims)
  for d = 1, ndims do
    local o = di + 3 + (d - 1) * 3
    if ARGV[o + 1] == '1' and (kind ~= 'quota429' or quotaDim == d) then
      discoveryStep(KEYS[3], ARGV[o], kind, sums[d], actual[d], quotaValue, tonumber(ARGV[o + 2]), now, p)
    end
  end
end
return { found, opened, monthCost }
