--[[
  Admission: ONE atomic step that walks candidate groups in order and
  reserves one request's costs in every window dimension on the least
  utilised scope with room in the first group that has one.

  Input:
    KEYS[1]                 global state hash (field `open`: correlated-failure backoff)
    KEYS[2 .. 1+M]          model state hashes (field `open`: model-wide block)
    then per scope, 3 keys  window zset, costs hash, state hash (blocks, breaker)
    then per group          rotation hash (round robin among ties)

    ARGV[1]  reservation id        ARGV[2] window ms      ARGV[3] breaker probe timeout ms
    ARGV[4]  n = window dimensions, then n costs, then n unit flags ('1': the cost is always 1)
    then     M (models), S (scopes), per scope: scope id, model index, n limits
    then     G (groups), per group: candidate count, then each candidate's scope index

  Output:
    {1, group, candidate, nowMs, probe}   admitted (1-based positions); probe = 1 when this
                                          request is the one a half-open breaker lets through
    {0, earliestFreeMs | -1, nowMs}       nothing has room; -1 = nothing frees by itself
]]
--- @include "includes/now"
--- @include "includes/blocks"
--- @include "includes/window"
--- @include "includes/breaker"

local now = redisNow()
local resId = ARGV[1]
local window = tonumber(ARGV[2])
local probeTimeout = tonumber(ARGV[3])
local ndims = tonumber(ARGV[4])
local costs, unit = {}, {}
for d = 1, ndims do
  costs[d] = tonumber(ARGV[4 + d])
  unit[d] = ARGV[4 + ndims + d] == '1'
end
local a = 5 + 2 * ndims
local nmodels = tonumber(ARGV[a])
local nscopes = tonumber(ARGV[a + 1])
a = a + 2
local scopeId, scopeModel, scopeLimits = {}, {}, {}
for s = 1, nscopes do
  scopeId[s] = ARGV[a]
  scopeModel[s] = tonumber(ARGV[a + 1])
  local lim = {}
  for d = 1, ndims do lim[d] = tonumber(ARGV[a + 1 + d]) end
  scopeLimits[s] = lim
  a = a + 2 + ndims
end
local scopeKey = function(s, k) return KEYS[1 + nmodels + (s - 1) * 3 + k] end
local rotationKey = function(g) return KEYS[1 + nmodels + nscopes * 3 + g] end

-- model-wide and global blocks are read once per call, not once per candidate
local globalFree = blockEnds(redis.call('HGET', KEYS[1], 'open'), now)
local modelFree = {}
for m = 1, nmodels do modelFree[m] = blockEnds(redis.call('HGET', KEYS[1 + m], 'open'), now) end

-- the earliest instant scope s can take this request (<= now: now), and its utilisation
local cache = {}
local function evaluate(s)
  local hit = cache[s]
  if hit then return hit[1], hit[2] end
  local st = scopeKey(s, 3)
  local blocks = redis.call('HMGET', st, 'cool', 'day')
  local freeAt = later(later(globalFree, modelFree[scopeModel[s]]), later(blockEnds(blocks[1], now), blockEnds(blocks[2], now)))
  if freeAt ~= NEVER then freeAt = later(freeAt, breakerFreeAt(st, now, probeTimeout)) end
  local util = 0
  -- a blocked scope answers with its block's end (a job waking then simply checks again)
  if freeAt ~= NEVER and freeAt <= now then
    local w, t = scopeKey(s, 1), scopeKey(s, 2)
    trimWindow(w, t, now, window, ndims)
    local sums = windowSums(t, ndims)
    local lim = scopeLimits[s]
    for d = 1, ndims do
      if costs[d] > lim[d] or lim[d] < 1 then
        freeAt = NEVER
        break
      end
      if sums[d] + costs[d] > lim[d] then
        local at = freedBy(w, t, d, sums[d] + costs[d] - lim[d], unit[d], window, ndims)
        if at == nil then freeAt = NEVER break end
        if at > freeAt then freeAt = at end
      end
      local u = sums[d] / lim[d]
      if u > util then util = u end
    end
  end
  cache[s] = { freeAt, util }
  return freeAt, util
end

local SAMPLE = 32
local earliest = NEVER
local ngroups = tonumber(ARGV[a])
a = a + 1
for g = 1, ngroups do
  local n = tonumber(ARGV[a])
  local cand = {}
  for c = 1, n do cand[c] = tonumber(ARGV[a + c]) end
  a = a + 1 + n
  local rk = rotationKey(g)
  -- scan from a rotating offset: ties go round robin, and a huge tier costs
  -- at most SAMPLE evaluations while capacity is plentiful; a scope without
  -- room is never chosen, however far the scan has to go to find one
  local start = 0
  if n > 1 then
    start = redis.call('HINCRBY', rk, '_', 1) % n
    redis.call('PEXPIRE', rk, 86400000)
  end
  local best, bestC, found = nil, nil, 0
  for j = 0, n - 1 do
    local c = ((start + j) % n) + 1
    local freeAt, util = evaluate(cand[c])
    if freeAt ~= NEVER and freeAt <= now then
      found = found + 1
      if best == nil or util < best - 1e-9 then best, bestC = util, c end
      if found >= SAMPLE or best <= 0 then break end
    elseif freeAt ~= NEVER and (earliest == NEVER or freeAt < earliest) then
      earliest = freeAt
    end
  end
  if best ~= nil then
    local s = cand[bestC]
    -- keys sharing the chosen scope take turns, so none is drained while another idles
    local same = {}
    for c = 1, n do
      if cand[c] == s then same[#same + 1] = c end
    end
    local pick = bestC
    if #same > 1 then
      pick = same[(redis.call('HINCRBY', rk, scopeId[s], 1) % #same) + 1]
      redis.call('PEXPIRE', rk, 86400000)
    end
    local probe = breakerPass(scopeKey(s, 3), now, probeTimeout)
    local w, t = scopeKey(s, 1), scopeKey(s, 2)
    redis.call('ZADD', w, now, resId)
    redis.call('HSET', t, resId, table.concat(costs, ','))
    addSums(t, costs, 1, ndims)
    redis.call('PEXPIRE', w, window + 60000)
    redis.call('PEXPIRE', t, window + 60000)
    return { 1, g, pick, now, probe }
  end
end
return { 0, earliest, now }
