--[[
  A tenant's outstanding jobs, in one hash: job id -> 'w<bytes>' while the
  job waits for its first run, 's<bytes>' once a worker started it; counters
  `_n` (jobs), `_b` (bytes) and `_w` (jobs still waiting).
]]

-- marks a job started; 1 when it was waiting
local function markStarted(out, jobId)
  local v = redis.call('HGET', out, jobId)
  if not v or string.sub(v, 1, 1) ~= 'w' then return 0 end
  redis.call('HSET', out, jobId, 's' .. string.sub(v, 2))
  redis.call('HINCRBY', out, '_w', -1)
  return 1
end

-- forgets a job (finished, or never added); 1 when it was outstanding
local function release(out, jobId)
  local v = redis.call('HGET', out, jobId)
  if not v then return 0 end
  redis.call('HDEL', out, jobId)
  redis.call('HINCRBY', out, '_n', -1)
  redis.call('HINCRBY', out, '_b', -tonumber(string.sub(v, 2)))
  if string.sub(v, 1, 1) == 'w' then redis.call('HINCRBY', out, '_w', -1) end
  return 1
end
