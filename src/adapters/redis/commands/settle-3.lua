--[[
  Settles a reservation once its call is over, and reports the call to the
  scope's circuit breaker, in one round trip.

  'settle': the costs become what upstream really counted, and the entry is
  re-stamped with the completion time. Upstream counted the request when it
  arrived, which is after our admission and before completion, so the
  re-stamped entry leaves our window no earlier than it leaves upstream's:
  conservative, never permissive. 'release' drops a reservation whose call
  was never made. A reservation that already left the window is left alone.

  Input:
    KEYS[1] window zset   KEYS[2] costs hash   KEYS[3] scope state hash
    ARGV[1] reservation id   ARGV[2] 'settle' | 'release'   ARGV[3] window ms
    ARGV[4] n = window dimensions, then n actual costs
    then    breaker event ('success' | 'failure' | 'none'), failure threshold, open ms
  Output:
    {found, opened}  found = 1 when the reservation was still in the window;
                     opened = 1 when this report opened the breaker
]]
--- @include "includes/now"
--- @include "includes/window"
--- @include "includes/breaker"

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

local held = redis.call('HGET', KEYS[2], ARGV[1])
if not held then return { 0, opened } end
local before = parseCosts(held, ndims)
if ARGV[2] == 'release' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  addSums(KEYS[2], before, -1, ndims)
  return { 1, opened }
end
local delta = {}
for d = 1, ndims do delta[d] = actual[d] - before[d] end
redis.call('HSET', KEYS[2], ARGV[1], table.concat(actual, ','))
addSums(KEYS[2], delta, 1, ndims)
redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
local ttl = tonumber(ARGV[3]) + 60000
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return { 1, opened }
