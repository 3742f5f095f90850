--[[
  Sets an availability block (a scope's cooldown or day exclusion, a
  model-wide block, the global backoff) that only ever lengthens: a shorter
  block never cuts a longer one short.

  Input:  KEYS[1] state hash; ARGV[1] field, ARGV[2] ttl ms (<= 0: until cleared), ARGV[3] reason
  Output: 1 when the block changed, else 0
]]
--- @include "includes/now"
--- @include "includes/blocks"

return lengthenBlock(KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3], redisNow())
