--[[
  Producer admission: a tenant's new job is checked against its caps on
  outstanding jobs and queued bytes, recorded, and given its fair-share
  position in the queue, in one step.

  Fair share: the job's BullMQ priority grows with the number of the
  tenant's jobs still waiting, divided by the tenant's weight, so jobs of
  different tenants are taken in turn however long one tenant's backlog is.
  Batch jobs come after every interactive job.

  Input:
    KEYS[1] tenant directory (tenant id -> 'weight,maxJobs,maxBytes'; absent = no fleet published yet)
    KEYS[2] the tenant's outstanding hash (see includes/outstanding)
    ARGV[1] tenant id   ARGV[2] job id   ARGV[3] bytes
    ARGV[4] default max jobs   ARGV[5] default max bytes
    ARGV[6] accept by (Redis ms; 0 = no bound): past it, the caller was already answered
    ARGV[7] lane ('interactive' | 'batch')   ARGV[8] extra positions (request priority - 1)
  Output:
    {1, priority}    admitted
    {2, 0}           already outstanding (the same message again): nothing changed
    {0, reason, limit}   refused: 'unknown_tenant' | 'jobs' | 'bytes' | 'late'
]]
--- @include "includes/now"

local STEP = 100
local LANE = 1048576
local tenant, jobId, bytes = ARGV[1], ARGV[2], tonumber(ARGV[3])
local acceptBy = tonumber(ARGV[6])
if acceptBy > 0 and redisNow() > acceptBy then return { 0, 'late', 0 } end

local weight, maxJobs, maxBytes = 1, tonumber(ARGV[4]), tonumber(ARGV[5])
local entry = redis.call('HGET', KEYS[1], tenant)
if entry then
  local w, j, b = string.match(entry, '^([^,]*),([^,]*),([^,]*)$')
  weight = tonumber(w) or weight
  maxJobs = tonumber(j) or maxJobs
  maxBytes = tonumber(b) or maxBytes
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  return { 0, 'unknown_tenant', 0 }
end

local out = KEYS[2]
if redis.call('HEXISTS', out, jobId) == 1 then return { 2, 0 } end
local n = tonumber(redis.call('HGET', out, '_n') or '0')
local b = tonumber(redis.call('HGET', out, '_b') or '0')
if n + 1 > maxJobs then return { 0, 'jobs', maxJobs } end
if b + bytes > maxBytes then return { 0, 'bytes', maxBytes } end
local waiting = tonumber(redis.call('HGET', out, '_w') or '0')

redis.call('HSET', out, jobId, 'w' .. bytes)
redis.call('HINCRBY', out, '_n', 1)
redis.call('HINCRBY', out, '_b', bytes)
redis.call('HINCRBY', out, '_w', 1)

local position = math.floor((waiting + tonumber(ARGV[8])) * STEP / weight) + 1
if position > LANE - 1 then position = LANE - 1 end
if ARGV[7] == 'batch' then position = position + LANE end
return { 1, position }
