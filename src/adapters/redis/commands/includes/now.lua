--[[
  Redis' own clock in ms: every worker agrees on it, whatever its host's clock says.
]]
local function redisNow()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
