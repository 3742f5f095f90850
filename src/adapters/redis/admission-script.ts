/**
 * The admission script: ONE atomic step that walks candidate groups in
 * order and reserves RPM 1 + TPM n on the first scope with room.
 *
 * Per scope (project|model) it keeps a sorted set of reservations scored by
 * admission time (`:w`) and a hash of their token counts plus a running
 * `_sum` (`:t`); entries older than the window are trimmed before every
 * decision, so the window slides exactly. `:cool` and `:day` are
 * availability blocks (a cooldown, a day exclusion), as is the model-wide
 * `:m:<model>:open` (breaker open, global backoff); their TTL says when
 * they end; a block without TTL never ends by itself. Time is Redis' own
 * clock, so all workers agree on it.
 *
 * ARGV: prefix, reservationId, tokens, windowMs, groupCount, then per group:
 *   groupId, candidateCount, then per candidate: scope, rpmLimit, tpmLimit.
 * `:global:open` blocks everything (a correlated failure storm).
 * Returns {1, group, candidate, nowMs, probe} (1-based) when admitted, else
 * {0, earliestFreeMs | -1, nowMs}: -1 = no candidate frees by itself.
 */
export const ADMIT_LUA = `
local prefix = ARGV[1]
local resId = ARGV[2]
local tokens = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local ngroups = tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local NEVER = -1
local SAMPLE = 32

local function trim(w, h)
  local cutoff = now - window
  while true do
    local old = redis.call('ZRANGEBYSCORE', w, '-inf', cutoff, 'LIMIT', 0, 500)
    if #old == 0 then return end
    local vals = redis.call('HMGET', h, unpack(old))
    local total = 0
    for j = 1, #vals do total = total + (tonumber(vals[j]) or 0) end
    redis.call('HINCRBY', h, '_sum', -total)
    redis.call('HDEL', h, unpack(old))
    redis.call('ZREM', w, unpack(old))
  end
end

-- when a block key frees: now when absent, NEVER when it has no expiry
local function freedAt(key)
  local ttl = redis.call('PTTL', key)
  if ttl == -1 then return NEVER end
  if ttl > 0 then return now + ttl end
  return now
end
local function later(a, b)
  if a == NEVER or b == NEVER then return NEVER end
  return math.max(a, b)
end
-- model-wide and global blocks are read once per call, not once per candidate
local globalFree = freedAt(prefix .. ':global:open')
local modelFree = {}

-- earliest instant the scope can take this request (<= now: it can now), and its utilisation
local cache = {}
local function evaluate(scope, rpm, tpm)
  local key = scope .. '#' .. rpm .. '#' .. tpm
  local hit = cache[key]
  if hit then return hit[1], hit[2] end
  local base = prefix .. ':s:' .. scope
  local model = string.sub(scope, string.find(scope, '|', 1, true) + 1)
  if modelFree[model] == nil then modelFree[model] = freedAt(prefix .. ':m:' .. model .. ':open') end
  local freeAt = later(later(globalFree, modelFree[model]), later(freedAt(base .. ':cool'), freedAt(base .. ':day')))
  local util = 0
  -- a blocked scope answers with its block's end (a job waking then simply checks again)
  if freeAt ~= NEVER and freeAt <= now then
    local w, h = base .. ':w', base .. ':t'
    trim(w, h)
    local count = redis.call('ZCARD', w)
    local sum = tonumber(redis.call('HGET', h, '_sum') or '0')
    if rpm < 1 or tokens > tpm then
      freeAt = NEVER
    else
      if count + 1 > rpm then
        local e = redis.call('ZRANGE', w, count - rpm, count - rpm, 'WITHSCORES')
        local at = tonumber(e[2]) + window
        if at > freeAt then freeAt = at end
      end
      if sum + tokens > tpm then
        local need = sum + tokens - tpm
        local acc, idx = 0, 0
        while acc < need do
          local batch = redis.call('ZRANGE', w, idx, idx + 99, 'WITHSCORES')
          if #batch == 0 then break end
          for j = 1, #batch, 2 do
            acc = acc + (tonumber(redis.call('HGET', h, batch[j])) or 0)
            if acc >= need then
              local at = tonumber(batch[j + 1]) + window
              if at > freeAt then freeAt = at end
              break
            end
          end
          idx = idx + 100
        end
      end
      util = math.max(count / rpm, sum / tpm)
    end
  end
  cache[key] = { freeAt, util }
  return freeAt, util
end

local earliest = NEVER
local i = 6
for g = 1, ngroups do
  local groupId = ARGV[i]
  local n = tonumber(ARGV[i + 1])
  i = i + 2
  local sc, rp, tp = {}, {}, {}
  for c = 1, n do
    sc[c], rp[c], tp[c] = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
    i = i + 3
  end
  -- scan from a rotating offset: ties go round robin, and a huge tier costs
  -- at most SAMPLE evaluations while capacity is plentiful; a scope without
  -- room is never chosen, however far the scan has to go to find one
  local start = 0
  if n > 1 then
    local rk = prefix .. ':rr:' .. groupId
    start = redis.call('INCR', rk) % n
    redis.call('PEXPIRE', rk, 86400000)
  end
  local best, bestC, found = nil, nil, 0
  for j = 0, n - 1 do
    local c = ((start + j) % n) + 1
    local freeAt, util = evaluate(sc[c], rp[c], tp[c])
    if freeAt ~= NEVER and freeAt <= now then
      found = found + 1
      if best == nil or util < best - 1e-9 then best, bestC = util, c end
      if found >= SAMPLE or best <= 0 then break end
    elseif freeAt ~= NEVER and (earliest == NEVER or freeAt < earliest) then
      earliest = freeAt
    end
  end
  if best ~= nil then
    local pick = { bestC, sc[bestC] }
    -- keys sharing the chosen scope take turns, so none is drained while another idles
    local same = {}
    for c = 1, n do
      if sc[c] == pick[2] then same[#same + 1] = c end
    end
    if #same > 1 then
      local rk = prefix .. ':rr:' .. groupId .. ':' .. pick[2]
      pick[1] = same[(redis.call('INCR', rk) % #same) + 1]
      redis.call('PEXPIRE', rk, 86400000)
    end
    local base = prefix .. ':s:' .. pick[2]
    -- a breaker whose open period ended lets exactly one probe through, for all workers
    local pmodel = string.sub(pick[2], string.find(pick[2], '|', 1, true) + 1)
    local brk = prefix .. ':m:' .. pmodel .. ':brk'
    local bstate = redis.call('HGET', brk, 'state')
    local probe = 0
    if bstate == 'open' or bstate == 'half_open' then
      redis.call('HSET', brk, 'state', 'half_open')
      redis.call('SET', prefix .. ':m:' .. pmodel .. ':open', 'probe', 'PX', 60000)
      probe = 1
    end
    redis.call('ZADD', base .. ':w', now, resId)
    redis.call('HSET', base .. ':t', resId, tokens)
    redis.call('HINCRBY', base .. ':t', '_sum', tokens)
    redis.call('PEXPIRE', base .. ':w', window + 60000)
    redis.call('PEXPIRE', base .. ':t', window + 60000)
    return { 1, g, pick[1], now, probe }
  end
end
return { 0, earliest, now }
`;

/**
 * Settles a reservation once its call is over: the tokens become what
 * upstream really counted, and the entry is re-stamped with the completion
 * time. Upstream counted the request when it arrived, which is after our
 * admission and before completion, so the re-stamped entry leaves our window
 * no earlier than it leaves upstream's: conservative, never permissive.
 * 'release' drops a reservation whose call was never made. A reservation
 * that already left the window is left alone.
 * A successful call also closes the model's breaker (a probe succeeded, or
 * the run of consecutive failures is broken) in the same round trip.
 * KEYS: window zset, tokens hash, breaker hash, model open key.
 * ARGV: reservationId, mode ('settle'|'release'), tokens, windowMs, succeeded ('1'|'0').
 */
export const SETTLE_LUA = `
if ARGV[5] == '1' then
  local bstate = redis.call('HGET', KEYS[3], 'state')
  if bstate == 'half_open' then
    redis.call('DEL', KEYS[3])
    redis.call('DEL', KEYS[4])
  elseif bstate == 'closed' then
    redis.call('DEL', KEYS[3])
  end
end
local v = redis.call('HGET', KEYS[2], ARGV[1])
if not v then return 0 end
if ARGV[2] == 'release' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('HINCRBY', KEYS[2], '_sum', -tonumber(v))
  return 1
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local actual = tonumber(ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], actual)
redis.call('HINCRBY', KEYS[2], '_sum', actual - tonumber(v))
redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
local ttl = tonumber(ARGV[4]) + 60000
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return 1
`;

/**
 * Sets an availability block on a scope that only ever lengthens: a shorter
 * block never cuts a longer one short. ttl <= 0 means no expiry (forever).
 * KEYS: block key. ARGV: ttlMs, reason.
 */
export const BLOCK_LUA = `
local ttl = tonumber(ARGV[1])
local cur = redis.call('PTTL', KEYS[1])
if cur == -1 then return 0 end
if ttl <= 0 then redis.call('SET', KEYS[1], ARGV[2]) return 1 end
if cur >= ttl then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
return 1
`;

/**
 * Counts a 5xx against a model's breaker, shared by all workers: opens it
 * after `threshold` consecutive failures (or at once when a half-open probe
 * fails) for `openMs`. Returns 1 when this call opened it.
 * KEYS: breaker hash, model open key. ARGV: threshold, openMs.
 */
export const BREAKER_FAIL_LUA = `
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
if state == 'open' then return 0 end
local fails = redis.call('HINCRBY', KEYS[1], 'fails', 1)
redis.call('PEXPIRE', KEYS[1], 86400000)
if state == 'half_open' or fails >= tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'state', 'open', 'openedAt', redis.call('TIME')[1])
  redis.call('SET', KEYS[2], 'breaker', 'PX', ARGV[2])
  return 1
end
redis.call('HSET', KEYS[1], 'state', 'closed')
return 0
`;

/**
 * Notes one failure in a sliding window and returns how many distinct
 * members the window holds (members are project ids to detect storms across
 * projects, or unique ids to count repeats).
 * KEYS: window zset. ARGV: member, windowMs.
 */
export const NOTE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])
`;
