-- One rate limit decision for one key, shared by every API replica: GCRA (the generic cell
-- rate algorithm, as in redis-cell and go-redis/redis_rate). The whole state of a key is one
-- number, its theoretical arrival time (TAT): when the key would be back to a full allowance.
-- Each counted request pushes the TAT one interval further; a request is allowed while the
-- TAT stays within limit * interval of now. So `limit` requests may come at once, and after
-- that one more every interval: `limit` per period (interval = period / limit) without a
-- fixed window's double burst at the window's edge. The key expires when the TAT is reached,
-- so idle keys leave Redis by themselves. Times are whole microseconds, so the arithmetic is
-- exact (well below 2^53) and the limit-th request of a burst is never lost to rounding.
--
-- KEYS[1]  crs:rl:<limit name>:<key>        the TAT, in microseconds since the epoch
-- ARGV[1]  limit: requests allowed at once
-- ARGV[2]  interval, in whole microseconds: one request's share of the period
-- ARGV[3]  "1" to count this request; "0" to only ask whether one more would be allowed
--
-- Returns { allowed (1 or 0), remaining after this request, retry after (µs, 0 when
-- allowed), reset after (µs until the full allowance is back) }.

local key = KEYS[1]
local limit = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local count = ARGV[3] == '1'
local burst = interval * limit

-- Redis' clock, not the caller's: replicas whose clocks disagree still share one timeline.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

local tat = tonumber(redis.call('GET', key) or now) or now
if tat < now then
  tat = now
end

local newTat = tat + interval
local allowAt = newTat - burst
if now < allowAt then
  return { 0, 0, allowAt - now, tat - now }
end

if count then
  -- '%.0f': the exact integer as text (no exponent); the key lives as long as it matters.
  redis.call('SET', key, string.format('%.0f', newTat), 'PX', math.ceil((newTat - now) / 1000))
end
return { 1, math.floor((now - allowAt) / interval), 0, newTat - now }
