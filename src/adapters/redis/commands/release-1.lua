--[[
  Forgets an outstanding job of a tenant: it was never added (the add
  failed), or it ended and the result no longer needs it.

  Input:  KEYS[1] the tenant's outstanding hash; ARGV[1] job id
  Output: 1 when it was outstanding
]]
--- @include "includes/outstanding"

return release(KEYS[1], ARGV[1])
