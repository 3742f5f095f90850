--[[
  A worker took a job for the first time: it no longer counts among the
  tenant's waiting jobs (the fair-share position of the tenant's next job).

  Input:  KEYS[1] the tenant's outstanding hash; ARGV[1] job id
  Output: 1 when it was waiting
]]
--- @include "includes/outstanding"

return markStarted(KEYS[1], ARGV[1])
