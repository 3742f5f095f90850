--[[
  Puts a dimension's discovery state (kept in Postgres) back into a scope's
  state hash after Redis lost it, unless discovery already moved on there:
  a live state is never overwritten by an older copy.

  Input:  KEYS[1] the scope's state hash; ARGV[1] the dimension's limit field,
          then field/value pairs of the stored state
  Output: 1 when it was restored, 0 when a live state exists
]]
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local pairs = {}
for i = 2, #ARGV do pairs[#pairs + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(pairs))
return 1
