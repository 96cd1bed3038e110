-- check: the state facts of one comment, read and charged atomically.
--
-- The contract is docs/redis.md ("check").  One call answers whether the
-- comment id was seen, the author's record, each rate limit (GCRA on Redis's
-- own clock, so every daemon sharing this Redis enforces one limit) and the
-- duplicate counts, and charges them, all or nothing.  It must never charge
-- or record anything on a dry run, on a retried id, or when a rate limit
-- refuses the comment, and never touch a key it was not given in KEYS
-- (Redis Cluster routes by them).
--
-- KEYS: seen, author, the N rate-limit keys, then dup:a (when same_window_s
-- > 0), then dup:f (when many_window_s > 0).
-- ARGV: dry_run ("1"/"0"), N, seen_ttl_s, N x (emission_us, tolerance_us),
-- same_window_s, many_window_s, author id.
-- Returns {seen, banned, trusted, approved, rejected, allowed_1, retry_ms_1,
-- ..., allowed_N, retry_ms_N, dup_same, dup_authors}.
--
-- Numbers are Lua doubles: microseconds since the epoch (about 1.7e15) are
-- exact below 2^53, and every value is written back with %.0f, never with
-- tostring (which keeps 14 digits).  The facts are stored under seen:ID as a
-- JSON array (cjson), whose values all stay below 1e14 and so keep every
-- digit.

local function bad(msg)
	return redis.error_reply('ERR commentd check: ' .. msg)
end

-- A whole number from 0 to max, or nil.  Seconds stay below 2^31 (Redis
-- refuses longer expiries, and a refusal after a write would leave half a
-- charge); microseconds below 2^63, and exact below 2^53.
local SECONDS, MICROS = 2147483647, 9.2e18

local function int_arg(i, max)
	local v = tonumber(ARGV[i])
	if v == nil or v < 0 or v > max or v ~= math.floor(v) then
		return nil
	end
	return v
end

local n = int_arg(2, 10000)
if n == nil or (ARGV[1] ~= '0' and ARGV[1] ~= '1') then
	return bad('ARGV[1] must be 0 or 1 and ARGV[2] a count')
end
if #ARGV ~= 3 + 2 * n + 3 then
	return bad('expected ' .. (3 + 2 * n + 3) .. ' arguments, got ' ..
	    #ARGV)
end
local dry = ARGV[1] == '1'
local seen_ttl = int_arg(3, SECONDS)
local same_window = int_arg(4 + 2 * n, SECONDS)
local many_window = int_arg(5 + 2 * n, SECONDS)
local author = ARGV[6 + 2 * n]
if seen_ttl == nil or seen_ttl < 1 or same_window == nil or
    many_window == nil then
	return bad('seen TTL and windows must be whole seconds')
end
local nkeys = 2 + n
local dup_a_key, dup_f_key
if same_window > 0 then
	nkeys = nkeys + 1
	dup_a_key = KEYS[nkeys]
end
if many_window > 0 then
	nkeys = nkeys + 1
	dup_f_key = KEYS[nkeys]
end
if #KEYS ~= nkeys then
	return bad('expected ' .. nkeys .. ' keys, got ' .. #KEYS)
end
local limits = {}
for i = 1, n do
	local t = int_arg(2 + 2 * i, MICROS)
	local tau = int_arg(3 + 2 * i, MICROS)
	if t == nil or t < 1 or tau == nil then
		return bad('limit ' .. i .. ': emission must be >= 1 us and ' ..
		    'tolerance >= 0')
	end
	limits[i] = {key = KEYS[2 + i], t = t, tau = tau}
end

-- 1. A retried id gets the facts of its first check, charged nothing.
local stored = redis.call('GET', KEYS[1])
if stored then
	local ok, facts = pcall(cjson.decode, stored)
	if ok and type(facts) == 'table' and #facts == 5 + 2 * n + 2 then
		facts[1] = 1
		return facts
	end
	-- Not what this script writes (or the policy's limits changed since):
	-- check afresh rather than answer with facts that do not fit.
end

-- 2. The author's record; a count that is not one reads as 0, and counts
-- stop at 2^32 - 1, which is all the daemon reads.
local function count(v)
	local x = tonumber(v)
	if x == nil or x ~= x or x < 0 then
		return 0
	end
	return math.min(math.floor(x), 4294967295)
end

local rec = redis.call('HMGET', KEYS[2], 'approved', 'rejected', 'banned',
    'trusted')
local facts = {0, rec[3] == '1' and 1 or 0, rec[4] == '1' and 1 or 0,
    count(rec[1]), count(rec[2])}

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

-- 3. Rate limits: every one is checked before any is charged.
local all_allow = true
for _, l in ipairs(limits) do
	local tat = tonumber(redis.call('GET', l.key)) or now
	if tat < now then
		tat = now
	end
	l.tat = tat
	if tat - now <= l.tau then
		facts[#facts + 1] = 1
		facts[#facts + 1] = 0
	else
		all_allow = false
		facts[#facts + 1] = 0
		facts[#facts + 1] = math.ceil((tat - l.tau - now) / 1000)
	end
end
local charge = all_allow and not dry
if charge then
	for _, l in ipairs(limits) do
		local new_tat = l.tat + l.t
		redis.call('SET', l.key, string.format('%.0f', new_tat), 'PX',
		    string.format('%.0f', math.ceil((new_tat - now) / 1000)))
	end
end

-- 4. Duplicates: counted always, recorded only when charged.
local dup_same, dup_authors = 0, 0
if dup_a_key then
	dup_same = redis.call('EXISTS', dup_a_key)
	if charge then
		redis.call('SET', dup_a_key, '1', 'EX', same_window)
	end
end
if dup_f_key then
	local now_ms = math.floor(now / 1000)
	local cutoff = now_ms - many_window * 1000
	local mine = tonumber(redis.call('ZSCORE', dup_f_key, author))
	dup_authors = redis.call('ZCOUNT', dup_f_key, '(' ..
	    string.format('%.0f', cutoff), '+inf')
	if mine == nil or mine <= cutoff then
		dup_authors = dup_authors + 1
	end
	if charge then
		redis.call('ZREMRANGEBYSCORE', dup_f_key, '-inf',
		    string.format('%.0f', cutoff))
		redis.call('ZADD', dup_f_key, string.format('%.0f', now_ms),
		    author)
		redis.call('EXPIRE', dup_f_key, many_window)
	end
end
facts[#facts + 1] = dup_same
facts[#facts + 1] = dup_authors

-- 5. Remembered, so a retry of this id is answered the same and charged
-- nothing.  A comment a limit refused was charged nothing either: it is not
-- remembered, so the same id sent again after its wait is checked afresh.
if charge then
	redis.call('SET', KEYS[1], cjson.encode(facts), 'EX', seen_ttl)
end
return facts
