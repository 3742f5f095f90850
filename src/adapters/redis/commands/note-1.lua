--[[
  Notes one failure in a sliding window and counts the distinct members the
  window holds: project ids to detect storms across projects, or unique ids
  to count repeats.

  Input:  KEYS[1] window zset; ARGV[1] member, ARGV[2] window ms
  Output: distinct members in the window, this one included
]]
--- @include "includes/now"

local now = redisNow()
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])
