--[[
  A streamed job's attempt starts (again): when the stream's last event is a
  chunk, an earlier attempt was cut off mid-answer (a worker crashed or
  handed the job back at shutdown) and readers must drop what it wrote, so a
  `reset` event is appended and announced as event-1.lua does. Any other
  last event (none, reset, done, error) needs nothing: one step, so two
  passes never both add one.

  Input:
    KEYS[1] the job's event stream (its name is also the channel)
    ARGV[1] the reset's data (JSON)
    ARGV[2] most entries kept   ARGV[3] expiry (ms)
  Output: the reset's id, or false when none was needed
]]
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if not last or last[2][2] ~= 'chunk' then
  return false
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 't', 'reset', 'd', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', KEYS[1], id .. ' reset ' .. ARGV[1])
return id
