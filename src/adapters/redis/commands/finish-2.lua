--[[
  After a job ended (completed, or failed for good): its request body is
  replaced by what the result still needs, and the tenant's outstanding
  entry goes, so a finished job holds neither queue bytes nor the tenant's
  caps. A failure BullMQ will retry has no finishedOn: nothing changes.

  Input:
    KEYS[1] the job's hash (BullMQ)   KEYS[2] the tenant's outstanding hash
    ARGV[1] job id   ARGV[2] the job data to keep (JSON)
  Output: 1 when the job had ended (data replaced if it still exists), else 0
]]
--- @include "includes/outstanding"

-- one read: BullMQ stamps every job hash with `timestamp`, so its absence means the job is gone
local job = redis.call('HMGET', KEYS[1], 'timestamp', 'finishedOn')
local exists = job[1] ~= false
if exists and not job[2] then return 0 end
release(KEYS[2], ARGV[1])
if exists then redis.call('HSET', KEYS[1], 'data', ARGV[2]) end
return 1
