-- Applies stock changes decoded from the database to the stock flag of one product, so that
-- an older change can never overwrite a newer one: every value carries the commit LSN it
-- came from (16 hex digits, so string order is LSN order) and is written only over an older
-- one. Then recomputes the summary the API reads and announces it when it changed.
--
-- KEYS[1]  summary hash   crs:stock:{id}         productId name total remaining available lsn updatedAt
-- KEYS[2]  values hash    crs:stock:{id}:values  name, total, shard:<n> = "<lsn>|<value>"
-- ARGV[1]  product id
-- ARGV[2]  now (ms since the epoch), for updatedAt
-- ARGV[3]  pub/sub channel for announcements
-- ARGV[4…] triples: field, lsn, value (fields: name, total, shard:<n>)

local summaryKey, valuesKey = KEYS[1], KEYS[2]
local productId, now, channel = ARGV[1], ARGV[2], ARGV[3]

for i = 4, #ARGV, 3 do
  local field, lsn, value = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local current = redis.call('HGET', valuesKey, field)
  if not current or string.sub(current, 1, 16) < lsn then
    redis.call('HSET', valuesKey, field, lsn .. '|' .. value)
  end
end

local values = redis.call('HGETALL', valuesKey)
local name, total, remaining, lsn, shards = nil, nil, 0, '0000000000000000', 0
for i = 1, #values, 2 do
  local field, entry = values[i], values[i + 1]
  local entryLsn, value = string.sub(entry, 1, 16), string.sub(entry, 18)
  if entryLsn > lsn then lsn = entryLsn end
  if field == 'name' then
    name = value
  elseif field == 'total' then
    total = value
  else
    remaining = remaining + tonumber(value)
    shards = shards + 1
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

local changed = before[1] ~= lsn
if changed then
  redis.call('PUBLISH', channel, cjson.encode({
    productId = productId, name = name, total = tonumber(total), remaining = remaining,
    available = remaining > 0, lsn = lsn,
  }))
end
return { name, total, tostring(remaining), available, lsn }
