-- Applies stock changes decoded from the database to the stock flag of one product, so that
-- an older change can never overwrite a newer one. Every value carries the version it came
-- from: the commit LSN (16 hex digits) followed by the change's position in its transaction
-- (8 hex digits), fixed width, so string order is commit order and, within one transaction,
-- the order of its changes. A value is written only over a strictly older version, so the last
-- write of a row in a transaction wins (place_orders claims units and gives some back in one
-- transaction), and a replay of a change already applied changes nothing. A snapshot taken at
-- an LSN (reconcile, the drift guard) carries the bare 16 digits, which sort before every
-- change committed at that LSN or later. Then recomputes the summary the API reads and
-- announces it when it changed.
--
-- KEYS[1]  summary hash   crs:stock:{id}         productId name total remaining available lsn updatedAt
-- KEYS[2]  values hash    crs:stock:{id}:values  name, total, shard:<n> = "<version>|<value>"
-- ARGV[1]  product id
-- ARGV[2]  now (ms since the epoch), for updatedAt
-- ARGV[3]  pub/sub channel for announcements
-- ARGV[4…] triples: field, version, value (fields: name, total, shard:<n>)
-- Returns  { name, total, remaining, available, lsn }, or nil until the product row was seen.

local summaryKey, valuesKey = KEYS[1], KEYS[2]
local productId, now, channel = ARGV[1], ARGV[2], ARGV[3]

-- "<version>|<value>": the version (entries written before versions had a position are 16
-- digits, which compare as the start of their LSN's versions) and the value.
local function split(entry)
  local bar = string.find(entry, '|', 1, true)
  return string.sub(entry, 1, bar - 1), string.sub(entry, bar + 1)
end

for i = 4, #ARGV, 3 do
  local field, version, value = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local current = redis.call('HGET', valuesKey, field)
  if not current or split(current) < version then
    redis.call('HSET', valuesKey, field, version .. '|' .. value)
  end
end

local values = redis.call('HGETALL', valuesKey)
local name, total, remaining, lsn = nil, nil, 0, '0000000000000000'
for i = 1, #values, 2 do
  local field = values[i]
  local version, value = split(values[i + 1])
  local entryLsn = string.sub(version, 1, 16)
  if entryLsn > lsn then lsn = entryLsn end
  if field == 'name' then
    name = value
  elseif field == 'total' then
    total = value
  else
    remaining = remaining + tonumber(value)
  end
end

-- Until the product row itself has been seen there is nothing trustworthy to show.
if not name or not total then
  return nil
end

local available = remaining > 0 and '1' or '0'
local before = redis.call('HMGET', summaryKey, 'lsn', 'remaining', 'total', 'name')
redis.call('HSET', summaryKey,
  'productId', productId, 'name', name, 'total', total, 'remaining', tostring(remaining),
  'available', available, 'lsn', lsn, 'updatedAt', now)

-- A repair (same LSN, other values) is news too.
local changed = before[1] ~= lsn or before[2] ~= tostring(remaining) or before[3] ~= total
  or before[4] ~= name
if changed then
  redis.call('PUBLISH', channel, cjson.encode({
    productId = productId, name = name, total = tonumber(total), remaining = remaining,
    available = remaining > 0, lsn = lsn,
  }))
end
return { name, total, tostring(remaining), available, lsn }
