-- tally_sum: the daemon's decisions of the last hour and the last day, for
-- GET /v1/admin/stats (docs/redis.md, "tally").  It only reads.
--
-- KEYS: the last hour's five-minute buckets, then the last day's hour
-- buckets (missing ones count as empty).
-- ARGV: how many of KEYS are the hour's.
-- Returns {hour, day}, each a flat list field, total, field, total, ...

local nhour = tonumber(ARGV[1])
if #ARGV ~= 1 or nhour == nil or nhour < 0 or nhour > #KEYS then
	return redis.error_reply('ERR commentd tally_sum: expected the ' ..
	    'number of hour buckets among the keys')
end

-- Sums the hashes KEYS[from..to] into one flat list.
local function sum(from, to)
	local totals, order = {}, {}
	for k = from, to do
		local h = redis.call('HGETALL', KEYS[k])
		for i = 1, #h, 2 do
			local f = h[i]
			if totals[f] == nil then
				totals[f] = 0
				order[#order + 1] = f
			end
			totals[f] = totals[f] + (tonumber(h[i + 1]) or 0)
		end
	end
	local flat = {}
	for _, f in ipairs(order) do
		flat[#flat + 1] = f
		flat[#flat + 1] = totals[f]
	end
	return flat
end

return {sum(1, nhour), sum(nhour + 1, #KEYS)}
