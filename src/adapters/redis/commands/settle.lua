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
    KEYS[1] window zset   KEYS[2] costs hash   KEYS[3] scope state hash (the window's sums too)
    with a tenant: KEYS[4] its window zset, KEYS[5] its costs hash, KEYS[6] its day hash, KEYS[7] its month hash
    last, with an RPD return: the scope's RPD pool of the day; or, for a call that answered its
            job, the tenant's outstanding hash
    ARGV[1] reservation id   ARGV[2] 'settle' | 'release'   ARGV[3] window ms
    ARGV[4] n = window dimensions, then n actual costs
    then    breaker event ('success' | 'failure' | 'none'), failure threshold, open ms
    then    tenant ('1' | '0'), central ('1' | '0'), day token correction, month cost (micro-USD)
    then    discovery: event ('success' | 'quota429' | 'other429' | 'none'), the index of the dimension a
            quota 429 was about (0: none), its quotaValue ('' when absent), then per dimension: its name,
            '1' when discovered, its floor; then the 5 discovery params (see includes/discovery)
    then    the job this call answered ('' = none): it leaves its tenant's outstanding jobs here, so
            its caller finds the slot free as soon as it has the answer (see includes/outstanding)
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
--- @include "includes/outstanding"

local now = redisNow()
local ndims = tonumber(ARGV[4])
local actual = {}
for d = 1, ndims do actual[d] = tonumber(ARGV[4 + d]) end
local b = 5 + ndims
local event = ARGV[b]
local window = tonumber(ARGV[3])
local releasing = ARGV[2] == 'release'
-- the breaker's fields and the window's trim mark in one read
local sf = redis.call('HMGET', KEYS[3], 'b', 'bu', 'bf', 'wo')
local opened = 0
if event == 'success' or event == 'failure' then
  opened = breakerReportOf(KEYS[3], sf[1], sf[2], sf[3], event, now, tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]))
end
local hasTenant, central = ARGV[b + 3] == '1', ARGV[b + 4] == '1'
local tokenDelta, cost = tonumber(ARGV[b + 5]), tonumber(ARGV[b + 6])

-- one reservation in one window (sums in sk): dropped, or corrected and re-stamped; 1 when it was there.
-- The keys' ttl was renewed by the last trim (wo: its cutoff); a call that ran long renews it for the
-- re-stamped entry.
local function restamp(w, t, sk, held, wo)
  if not held then return 0 end
  local before = parseCosts(held, ndims)
  if releasing then
    redis.call('ZREM', w, ARGV[1])
    redis.call('HDEL', t, ARGV[1])
    addSums(sk, before, -1, ndims)
    return 1
  end
  local delta = {}
  for d = 1, ndims do delta[d] = actual[d] - before[d] end
  redis.call('HSET', t, ARGV[1], table.concat(actual, ','))
  addSums(sk, delta, 1, ndims)
  redis.call('ZADD', w, 'XX', now, ARGV[1])
  if wo == nil or now - window - wo >= 30000 then
    redis.call('PEXPIRE', w, window + 60000)
    redis.call('PEXPIRE', t, window + 60000)
  end
  return 1
end

local found = restamp(KEYS[1], KEYS[2], KEYS[3], redis.call('HGET', KEYS[2], ARGV[1]), tonumber(sf[4]))
local monthCost = 0
if hasTenant then
  local th = redis.call('HMGET', KEYS[5], ARGV[1], 'wo')
  local tenantFound = restamp(KEYS[4], KEYS[5], KEYS[5], th[1], tonumber(th[2]))
  if releasing and tenantFound == 1 then
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
if releasing and poolTtl > 0 then
  redis.call('INCR', KEYS[#KEYS])
  redis.call('PEXPIRE', KEYS[#KEYS], poolTtl)
end
local answered = ARGV[#ARGV - 1]
if answered ~= '' and not releasing then release(KEYS[#KEYS], answered) end
-- discovery learns from how the call ended, on the window as it now is
local di = b + 7
local kind, quotaDim, quotaValue = ARGV[di], tonumber(ARGV[di + 1]), tonumber(ARGV[di + 2])
if (kind == 'success' or kind == 'quota429') and not releasing then
  local p, sums = discoveryParams(ARGV, di + 3 + 3 * ndims), nil
  for d = 1, ndims do
    local o = di + 3 + (d - 1) * 3
    if ARGV[o + 1] == '1' and (kind ~= 'quota429' or quotaDim == d) then
      -- read only when a dimension is discovered
      sums = sums or windowSums(KEYS[3], ndims)
      discoveryStep(KEYS[3], ARGV[o], kind, sums[d], actual[d], quotaValue, tonumber(ARGV[o + 2]), now, p)
    end
  end
end
return { found, opened, monthCost }
