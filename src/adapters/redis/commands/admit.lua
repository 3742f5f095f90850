--[[
  Admission: ONE atomic step that checks the tenant's own limits, then walks
  candidate groups in order and reserves one request's costs in every window
  dimension on the least utilised scope with room in the first group that
  has one — counting it against the tenant in the same step.

  Input:
    KEYS[1]                 global state hash (field `open`: correlated-failure backoff)
    KEYS[2 .. 1+M]          model state hashes (field `open`: model-wide block)
    then per scope, 3 keys  window zset, costs hash, state hash (blocks, breaker, `iw`)
    then per group          rotation hash (round robin among ties)
    then, with an RPD pool  per scope, its RPD pool of the day (a counter; see rpd-fill-1.lua)
    then, with a started job  its tenant's outstanding hash
    then, with a tenant     its window zset, costs hash, day hash, month hash, outstanding hash

    ARGV[1]  reservation id        ARGV[2] window ms      ARGV[3] breaker probe timeout ms
    ARGV[4]  n = window dimensions, then n costs, then n unit flags ('1': the cost is always 1)
    then     M (models), S (scopes), per scope: scope id, model index, n limits, n discovery flags
             ('1': the limit is discovered, the value given is its floor; see includes/discovery)
    then     G (groups), per group: central ('1'|'0'), candidate count, each candidate's scope index
    then     lane ('interactive' | 'batch'), hold ms (how long a waiting interactive job keeps batch off a scope),
             the discovery quiet period ms, then the n dimension names
    then     RPD pool ttl ms (0: no pool; else the admitted scope's request of the day is taken
             from its pool in this same step when the pool holds one)
    then     started job id ('' = none): the job leaves its tenant's waiting count in this step, whatever
             the admission's outcome (a worker's first pass over the job)
    then     tenant ('1' | '0'); with '1': n window limits (0 = none), rpd, tokensPerDay, centralRpd,
             centralTokensPerDay (0 = none), budget (micro-USD, -1 = none), estimated tokens, job id

  Output:
    {1, group, candidate, nowMs, probe, rpd} admitted (1-based positions); probe = 1 when this request
                                             is the one a half-open breaker lets through; rpd = 1 when
                                             its request of the day came from the pool (0: the caller
                                             reserves it from the ledger)
    {0, earliestFreeMs | -1, nowMs, why, centralSkipped}
                                             nothing has room; -1 = nothing frees by itself; why = what
                                             the earliest candidate waits for ('window', 'cool', 'day',
                                             'breaker', 'model', 'global', 'interactive', 'tenant')
    {2, limit name, limit value, nowMs}      the tenant is over a daily limit or its budget
]]
--- @include "includes/now"
--- @include "includes/blocks"
--- @include "includes/window"
--- @include "includes/breaker"
--- @include "includes/outstanding"
--- @include "includes/discovery"

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
local scopeId, scopeModel, scopeLimits, scopeDiscover = {}, {}, {}, {}
for s = 1, nscopes do
  scopeId[s] = ARGV[a]
  scopeModel[s] = tonumber(ARGV[a + 1])
  local lim, disc = {}, {}
  for d = 1, ndims do
    lim[d] = tonumber(ARGV[a + 1 + d])
    disc[d] = ARGV[a + 1 + ndims + d] == '1'
  end
  scopeLimits[s] = lim
  scopeDiscover[s] = disc
  a = a + 2 + 2 * ndims
end
local ngroups = tonumber(ARGV[a])
a = a + 1
local groupCentral, groupCand = {}, {}
for g = 1, ngroups do
  groupCentral[g] = ARGV[a] == '1'
  local n = tonumber(ARGV[a + 1])
  local cand = {}
  for c = 1, n do cand[c] = tonumber(ARGV[a + 1 + c]) end
  groupCand[g] = cand
  a = a + 2 + n
end
local lane = ARGV[a]
local hold = tonumber(ARGV[a + 1])
local quietMs = tonumber(ARGV[a + 2])
local dimName = {}
for d = 1, ndims do dimName[d] = ARGV[a + 2 + d] end
local rpdTtl = tonumber(ARGV[a + 3 + ndims])
local startedJob = ARGV[a + 4 + ndims]
local hasTenant = ARGV[a + 5 + ndims] == '1'
a = a + 6 + ndims

local scopeKey = function(s, k) return KEYS[1 + nmodels + (s - 1) * 3 + k] end
local rotationKey = function(g) return KEYS[1 + nmodels + nscopes * 3 + g] end
local poolKey = function(s) return KEYS[1 + nmodels + nscopes * 3 + ngroups + s] end
local tk = 1 + nmodels + nscopes * 3 + ngroups
if rpdTtl > 0 then tk = tk + nscopes end
if startedJob ~= '' then
  tk = tk + 1
  markStarted(KEYS[tk], startedJob)
end

-- the tenant's own limits come first: over a daily limit or the budget the job ends; over a window it waits
local centralBlocked, est, jobId, tsums, tenantTrimmed = false, 0, '', nil, false
if hasTenant then
  local tlim = {}
  for d = 1, ndims do tlim[d] = tonumber(ARGV[a + d - 1]) end
  a = a + ndims
  local rpd, tpd, crpd, ctpd = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local budget = tonumber(ARGV[a + 4])
  est = tonumber(ARGV[a + 5])
  jobId = ARGV[a + 6]
  local day = redis.call('HMGET', KEYS[tk + 3], 'req', 'tok', 'creq', 'ctok')
  local req, tok, creq, ctok = tonumber(day[1]) or 0, tonumber(day[2]) or 0, tonumber(day[3]) or 0, tonumber(day[4]) or 0
  if rpd > 0 and req + 1 > rpd then return { 2, 'rpd', rpd, now } end
  if tpd > 0 and tok + est > tpd then return { 2, 'tokensPerDay', tpd, now } end
  if budget >= 0 and (tonumber(redis.call('HGET', KEYS[tk + 4], 'cost')) or 0) >= budget then return { 2, 'budget', budget, now } end
  centralBlocked = (crpd > 0 and creq + 1 > crpd) or (ctpd > 0 and ctok + est > ctpd)
  local tw, tt = KEYS[tk + 1], KEYS[tk + 2]
  local read, wo = sumsOf(redis.call('HMGET', tt, unpack(sumNames(ndims))), 1, ndims)
  local sums
  sums, tenantTrimmed = sumsFor(tw, tt, tt, read, wo, now, window, ndims, costs, tlim, nil)
  tsums = sums
  local tfree = now
  for d = 1, ndims do
    if tlim[d] > 0 and sums[d] + costs[d] > tlim[d] then
      if costs[d] > tlim[d] then return { 0, -1, now, 'tenant', 0 } end
      local at = freedBy(tw, tt, d, sums[d] + costs[d] - tlim[d], unit[d], window, ndims)
      if at == nil then return { 0, -1, now, 'tenant', 0 } end
      if at > tfree then tfree = at end
    end
  end
  if tfree > now then return { 0, tfree, now, 'tenant', 0 } end
end

-- model-wide and global blocks are read once per call, not once per candidate (a model's only
-- when one of its candidates is evaluated)
local globalFree = blockEnds(redis.call('HGET', KEYS[1], 'open'), now)
local modelFreeAt = {}
local function modelFree(m)
  local v = modelFreeAt[m]
  if v == nil then
    v = blockEnds(redis.call('HGET', KEYS[1 + m], 'open'), now)
    modelFreeAt[m] = v
  end
  return v
end

-- when scope s can take this request (<= now: now), why it cannot before, and its utilisation
local cache = {}
local function evaluate(s)
  local hit = cache[s]
  if hit then return hit[1], hit[2], hit[3] end
  local st = scopeKey(s, 3)
  -- blocks, the breaker (b, bu, bp; see includes/breaker) and discovery in one read
  local fields = { 'cool', 'day', 'iw', 'day_r', 'b', 'bu', 'bp' }
  -- then the window's running sums and its trim mark (see includes/window)
  for _, name in ipairs(sumNames(ndims)) do fields[#fields + 1] = name end
  for d = 1, ndims do
    if scopeDiscover[s][d] then
      local df = discoveryFields(dimName[d])
      fields[#fields + 1], fields[#fields + 2] = df[1], df[2]
    end
  end
  local f = redis.call('HMGET', st, unpack(fields))
  local freeAt, why = now, 'window'
  local function block(at, reason)
    if freeAt == NEVER then return end
    if at == NEVER or at > freeAt then freeAt, why = at, reason end
  end
  block(globalFree, 'global')
  block(modelFree(scopeModel[s]), 'model')
  block(blockEnds(f[1], now), 'cool')
  -- the ledger's day is full ('rpd_full'), but requests reserved a moment ago may still be in the
  -- pool (or a cancelled lease gave one back): while it holds some, the scope is not done for the day
  local dayEnd = blockEnds(f[2], now)
  if dayEnd ~= now and rpdTtl > 0 and f[4] == 'rpd_full' and (tonumber(redis.call('GET', poolKey(s))) or 0) > 0 then dayEnd = now end
  block(dayEnd, 'day')
  if freeAt ~= NEVER then block(breakerFreeAtOf(f[5], f[6], f[7], now, probeTimeout), 'breaker') end
  -- batch work never takes a scope interactive jobs are waiting for
  if freeAt ~= NEVER and lane == 'batch' then block(blockEnds(f[3], now), 'interactive') end
  local util, sums, trimmed = 0, nil, false
  -- a blocked scope answers with its block's end (a job waking then simply checks again)
  if freeAt ~= NEVER and freeAt <= now then
    why = 'window'
    local w, t = scopeKey(s, 1), scopeKey(s, 2)
    -- a discovered limit is what discovery admits now; the limit given is its floor
    local lim, fi = {}, 9 + ndims
    for d = 1, ndims do
      lim[d] = scopeLimits[s][d]
      if scopeDiscover[s][d] then
        lim[d] = discoveryAdmittedOf(f[fi], f[fi + 1], lim[d], now, quietMs)
        fi = fi + 2
      end
    end
    -- the sums moved from the costs hash to the state hash: a state hash never trimmed takes them over once
    local read, wo = sumsOf(f, 8, ndims)
    sums, trimmed = sumsFor(w, t, st, read, wo, now, window, ndims, costs, lim, t)
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
  cache[s] = { freeAt, util, why, sums, f, trimmed }
  return freeAt, util, why
end

-- the least utilised of the first SAMPLE scopes with room from a rotating start ("the power of two
-- choices"): as even as comparing them all, and each admission reads two candidates, not the tier
local SAMPLE = 2
local earliest, earliestWhy, centralSkipped = NEVER, 'window', 0
for g = 1, ngroups do
  local cand = groupCand[g]
  local n = #cand
  if groupCentral[g] and centralBlocked then
    centralSkipped = 1
  else
    local rk = rotationKey(g)
    -- scan from a rotating offset: ties go round robin, and a huge tier costs
    -- at most SAMPLE evaluations while capacity is plentiful; a scope without
    -- room is never chosen, however far the scan has to go to find one
    -- (the counters live a day from their creation, then start again from 0)
    local start = 0
    if n > 1 then
      local turn = redis.call('HINCRBY', rk, '_', 1)
      if turn == 1 then redis.call('PEXPIRE', rk, 86400000) end
      start = turn % n
    end
    local best, bestC, found = nil, nil, 0
    for j = 0, n - 1 do
      local c = ((start + j) % n) + 1
      local freeAt, util, why = evaluate(cand[c])
      if freeAt ~= NEVER and freeAt <= now then
        found = found + 1
        if best == nil or util < best - 1e-9 then best, bestC = util, c end
        if found >= SAMPLE or best <= 0 then break end
      elseif freeAt ~= NEVER and (earliest == NEVER or freeAt < earliest) then
        earliest, earliestWhy = freeAt, why
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
        local turn = redis.call('HINCRBY', rk, scopeId[s], 1)
        if turn == 1 then redis.call('PEXPIRE', rk, 86400000) end
        pick = same[(turn % #same) + 1]
      end
      local chosen = cache[s]
      local sf = chosen[5]
      local probe = breakerPassOf(scopeKey(s, 3), sf[5], sf[6], sf[7], now, probeTimeout)
      local w, t = scopeKey(s, 1), scopeKey(s, 2)
      local entry = table.concat(costs, ',')
      redis.call('ZADD', w, now, resId)
      redis.call('HSET', t, resId, entry)
      -- the new running sums (read in this same step)
      redis.call('HSET', scopeKey(s, 3), unpack(sumFields(chosen[4], costs, ndims)))
      -- the ttl is renewed with each trim (at least every trimSlack while admissions come); keys this
      -- step may just have created get it now
      if chosen[6] then
        redis.call('PEXPIRE', w, window + 60000)
        redis.call('PEXPIRE', t, window + 60000)
      end
      if hasTenant then
        local tw, tt, tday = KEYS[tk + 1], KEYS[tk + 2], KEYS[tk + 3]
        redis.call('ZADD', tw, now, resId)
        -- the entry and the new running sums in one write (the tenant's sums live beside its entries)
        redis.call('HSET', tt, resId, entry, unpack(sumFields(tsums, costs, ndims)))
        if tenantTrimmed then
          redis.call('PEXPIRE', tw, window + 60000)
          redis.call('PEXPIRE', tt, window + 60000)
        end
        redis.call('HINCRBY', tday, 'req', 1)
        redis.call('HINCRBY', tday, 'tok', est)
        if groupCentral[g] then
          redis.call('HINCRBY', tday, 'creq', 1)
          redis.call('HINCRBY', tday, 'ctok', est)
        end
        redis.call('PEXPIRE', tday, 3 * 86400000)
        if jobId ~= '' then markStarted(KEYS[tk + 5], jobId) end
      end
      -- the request of the day from the pool: one DECR while it holds some; an empty pool is put back
      -- (the caller then reserves a block from the ledger and fills it)
      local took = 0
      if rpdTtl > 0 then
        local pk = poolKey(s)
        if redis.call('DECR', pk) >= 0 then
          took = 1
        else
          redis.call('INCR', pk)
          redis.call('PEXPIRE', pk, rpdTtl)
        end
      end
      return { 1, g, pick, now, probe, took }
    end
  end
end

-- an interactive job about to wait keeps batch work off the scopes it waits for, until a little after it wakes
if lane == 'interactive' and earliest ~= NEVER then
  local untilAt = earliest + hold
  for s, v in pairs(cache) do
    if v[1] ~= NEVER then
      local st = scopeKey(s, 3)
      local cur = tonumber(redis.call('HGET', st, 'iw')) or 0
      if untilAt > cur then redis.call('HSET', st, 'iw', untilAt) end
    end
  end
end
return { 0, earliest, now, earliestWhy, centralSkipped }
