--[[
  The RPD pool of a (project, model, day): requests the ledger (Postgres)
  has reserved that no admission has spent yet. admit.lua spends from it;
  this script puts a block the ledger just granted into it, keeping one for
  the caller. A ledger that granted nothing (the day is full there) may
  still have left requests here, reserved by another worker a moment ago:
  the caller takes one of those, so no reserved request is left unspent
  while a worker gives up on the scope.

  Input:
    KEYS[1] the pool (a counter)
    ARGV[1] requests the ledger granted (0: none)   ARGV[2] the pool's ttl ms (until its day is over)
  Output: 1 when the caller has its request, 0 when neither the ledger nor the pool had one
]]

local granted = tonumber(ARGV[1])
if granted > 0 then
  if granted > 1 then redis.call('INCRBY', KEYS[1], granted - 1) end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if (tonumber(redis.call('GET', KEYS[1])) or 0) > 0 then
  redis.call('DECR', KEYS[1])
  return 1
end
return 0
