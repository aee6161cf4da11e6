#!lua name=xdrd
-- xdrd's Redis Functions library. Public contract (docs/redis.md):
-- xdrd_put, xdrd_get, xdrd_meta, xdrd_del. Internal, called by the driver:
-- xdrd_write, xdrd_apply, xdrd_forget.
--
-- Numbers that may pass 2^53 (generation, last-update time) are handled as
-- decimal strings: Lua numbers are doubles and would round them.

local REC, LOG, SEQ = 'xdrd:r:', 'xdrd:log:', 'xdrd:seq:'
local CONFIG, HLC = 'xdrd:config', 'xdrd:hlc'
local META = {'gen', 'lut', 'origin', 'exp', 'del'}

-- numcmp compares two non-negative decimal strings without leading zeros.
local function numcmp(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end

-- incr adds one to a non-negative decimal string.
local function incr(s)
  local i = #s
  while i > 0 and s:sub(i, i) == '9' do i = i - 1 end
  if i == 0 then return '1' .. string.rep('0', #s) end
  local d = string.char(s:byte(i) + 1)
  return s:sub(1, i - 1) .. d .. string.rep('0', #s - i)
end

local function maxnum(a, b)
  if numcmp(a, b) >= 0 then return a end
  return b
end

-- observe moves the region's hybrid logical clock past lut.
local function observe(lut)
  local last = redis.call('GET', HLC)
  if not last or numcmp(lut, last) > 0 then redis.call('SET', HLC, lut) end
end

-- tick hands out a LUT: never behind the server's TIME nor behind hint
-- (the daemon's own clock, '0' when unused), always after every LUT handed
-- out or observed before and after the record's stored one.
local function tick(hint, stored)
  local t = redis.call('TIME')
  local lut = maxnum(t[1] .. string.format('%06d', tonumber(t[2])) .. '000', hint)
  local last = redis.call('GET', HLC) or '0'
  if stored then last = maxnum(last, stored) end
  if numcmp(lut, last) <= 0 then lut = incr(last) end
  redis.call('SET', HLC, lut)
  return lut
end

-- split parses '<namespace>:<set>:<key>'.
local function split(addr)
  local a = string.find(addr, ':', 1, true)
  local b = a and string.find(addr, ':', a + 1, true)
  if not b or a == 1 or b == #addr then
    error('xdrd: key must be <namespace>:<set>:<key>, got ' .. addr)
  end
  return addr:sub(1, a - 1), addr:sub(a + 1, b - 1), addr:sub(b + 1)
end

-- binfields turns bins given as (mode, args from i) into hash fields:
-- mode 's' is name/value pairs of strings, 'm' one msgpack blob, 'n' none.
local function binfields(mode, args, i, out)
  if mode == 'm' then
    table.insert(out, 'm'); table.insert(out, args[i])
  elseif mode == 's' then
    if (#args - i + 1) % 2 ~= 0 then error('xdrd: bins must be <bin> <value> pairs') end
    for j = i, #args, 2 do
      if args[j] == '' then error('xdrd: empty bin name') end
      table.insert(out, 'b:' .. args[j]); table.insert(out, args[j + 1])
    end
  end
  return out
end

-- store replaces the record and appends it to its namespace's change log,
-- trimmed to about the configured length.
local function store(addr, meta, mode, args, i)
  local ns, set, key = split(addr)
  local fields = {}
  for j, name in ipairs(META) do
    table.insert(fields, name); table.insert(fields, meta[j])
  end
  binfields(mode, args, i, fields)
  local rk = REC .. addr
  redis.call('DEL', rk)
  redis.call('HSET', rk, unpack(fields))

  local seq = redis.call('INCR', SEQ .. ns)
  local entry = {'set', set, 'key', key}
  for _, f in ipairs(fields) do table.insert(entry, f) end
  local maxlen = redis.call('HGET', CONFIG, 'maxlen')
  local id = string.format('%d-0', seq)
  if maxlen and maxlen ~= '0' then
    redis.call('XADD', LOG .. ns, 'MAXLEN', '~', maxlen, id, unpack(entry))
  else
    redis.call('XADD', LOG .. ns, id, unpack(entry))
  end
end

-- write is a local write: generation + 1, LUT from the clock, this region.
local function write(addr, hint, exp, del, mode, args, i)
  split(addr)
  local region = redis.call('HGET', CONFIG, 'region')
  if not region then error('xdrd: region not configured; start xdrd on this server') end
  local cur = redis.call('HMGET', REC .. addr, 'gen', 'lut')
  local gen = cur[1] and incr(cur[1]) or '1'
  local lut = tick(hint, cur[2] or nil)
  store(addr, {gen, lut, region, exp, del}, mode, args, i)
  return {gen, lut}
end

local function put(keys, args)
  return tonumber(write(keys[1], '0', '0', '0', 's', args, 1)[1])
end

local function del(keys, args)
  return tonumber(write(keys[1], '0', '0', '1', 'n', args, 1)[1])
end

-- get returns the bins as bin/value pairs. Bins stored as msgpack (values
-- of other types, written through xdrd) are rendered as strings: numbers
-- and booleans with tostring, lists and maps as JSON.
local function get(keys)
  local h = redis.call('HGETALL', REC .. keys[1])
  local out, blob, deleted = {}, nil, false
  for i = 1, #h, 2 do
    local f, v = h[i], h[i + 1]
    if f == 'del' then deleted = v == '1'
    elseif f == 'm' then blob = v
    elseif f:sub(1, 2) == 'b:' then table.insert(out, f:sub(3)); table.insert(out, v) end
  end
  if deleted then return {} end
  if blob and blob ~= '' then
    local ok, bins = pcall(cmsgpack.unpack, blob)
    if not ok or type(bins) ~= 'table' then error('xdrd: bins are not a msgpack map') end
    for name, v in pairs(bins) do
      if type(v) == 'table' then v = cjson.encode(v) end
      table.insert(out, tostring(name)); table.insert(out, tostring(v))
    end
  end
  return out
end

local function meta(keys)
  local m = redis.call('HMGET', REC .. keys[1], 'gen', 'lut', 'origin', 'del')
  if not m[1] then return {} end
  -- The LUT goes back as a string: as a Lua number it would be rounded.
  return {tonumber(m[1]), m[2], tonumber(m[3]), tonumber(m[4])}
end

-- compare reports how incoming (gen, lut, origin) compares with stored under
-- policy 't' (timestamp) or 'g' (generation).
local function compare(policy, a, b)
  local order = {1, 2, 3}
  if policy == 't' then order = {2, 1, 3} end
  for _, j in ipairs(order) do
    local c = numcmp(a[j], b[j])
    if c ~= 0 then return c end
  end
  return 0
end

-- apply resolves a replicated version against the stored one and writes
-- it when it wins. ARGV: policy, gen, lut, origin, exp, del, mode, bins...
-- Returns {outcome 0 applied|1 rejected|2 duplicate, had, gen, lut,
-- origin, exp, del} with the metadata stored before.
local function apply(keys, args)
  local rk = REC .. keys[1]
  split(keys[1])
  observe(args[3])
  local cur = redis.call('HMGET', rk, unpack(META))
  local res = {0, 0, '0', '0', '0', '0', '0'}
  if cur[1] then
    res = {0, 1, cur[1], cur[2], cur[3], cur[4], cur[5]}
    local c = compare(args[1], {args[2], args[3], args[4]}, cur)
    if c < 0 then res[1] = 1 elseif c == 0 then res[1] = 2 end
  end
  if res[1] == 0 then
    store(keys[1], {args[2], args[3], args[4], args[5], args[6]}, args[7], args, 8)
  end
  return res
end

-- forget deletes a record for Purge, only if it still holds the version
-- the purge decided on (ARGV: gen, lut, origin).
local function forget(keys, args)
  local rk = REC .. keys[1]
  local cur = redis.call('HMGET', rk, 'gen', 'lut', 'origin')
  if cur[1] == args[1] and cur[2] == args[2] and cur[3] == args[3] then
    return redis.call('DEL', rk)
  end
  return 0
end

local function internal_write(keys, args)
  return write(keys[1], args[1], args[2], args[3], args[4], args, 5)
end

redis.register_function('xdrd_put', put)
redis.register_function('xdrd_del', del)
redis.register_function{function_name = 'xdrd_get', callback = get, flags = {'no-writes'}}
redis.register_function{function_name = 'xdrd_meta', callback = meta, flags = {'no-writes'}}
redis.register_function('xdrd_write', internal_write)
redis.register_function('xdrd_apply', apply)
redis.register_function('xdrd_forget', forget)
