-- tally: adds a daemon's counts of its own decisions to the time buckets
-- that GET /v1/admin/stats sums (docs/redis.md, "tally").
--
-- The daemon counts in process and sends its counts about once a second, so
-- Redis sees one call per site per second however busy the site is.  Every
-- count goes into two buckets: a five-minute one, summed for the last hour,
-- and an hour one, summed for the last day.  Each bucket outlives the window
-- that reads it and then expires; this script must never touch another key.
--
-- KEYS: the five-minute bucket hash, the hour bucket hash.
-- ARGV: field, count, field, count, ... (a field is a decision, or a rule
-- id and a decision joined by ':'; a count is a positive integer).
-- Returns the number of fields added.

local TTL_5M = 2 * 3600		-- read for an hour, kept for two
local TTL_1H = 26 * 3600	-- read for a day, kept for 26 hours

if #KEYS ~= 2 or #ARGV == 0 or #ARGV % 2 ~= 0 then
	return redis.error_reply('ERR commentd tally: expected 2 keys and ' ..
	    'field, count pairs')
end
for i = 2, #ARGV, 2 do
	local n = tonumber(ARGV[i])
	if n == nil or n < 1 or n ~= math.floor(n) then
		return redis.error_reply('ERR commentd tally: a count must be ' ..
		    'a positive integer')
	end
end
for i = 1, #ARGV, 2 do
	redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
	redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], TTL_5M)
redis.call('EXPIRE', KEYS[2], TTL_1H)
return #ARGV / 2
