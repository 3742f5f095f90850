--[[
  Appends one event to a streamed job's event stream and announces it, in
  one step: readers that are listening get it at once from the channel,
  readers that come later (or missed it) read the stream. The stream is
  bounded in length and expires after the results are no longer kept.

  Input:
    KEYS[1] the job's event stream (its name is also the channel)
    ARGV[1] type ('chunk' | 'reset' | 'done' | 'error')   ARGV[2] data (JSON)
    ARGV[3] most entries kept   ARGV[4] expiry (ms)
  Output: the entry's id
]]
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 't', ARGV[1], 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', KEYS[1], id .. ' ' .. ARGV[1] .. ' ' .. ARGV[2])
return id
