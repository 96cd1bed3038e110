-- author: a moderator's action on an author's record, with its audit entry.
--
-- The contract is docs/redis.md ("author").  ban, unban, trust and untrust
-- set or clear one flag of the record; reset-limits forgets the rate-limit
-- keys the daemon passed (the author-keyed limits of the site's policy).
-- Every action, even one that changes nothing (banning a banned author), is
-- appended to the audit stream in the same call, so the trail and the
-- record never disagree.  It must never touch a key it was not given in
-- KEYS and never trim the audit stream.
--
-- KEYS: the author's record hash, the audit stream, then (reset-limits
-- only) the rate-limit keys to delete.
-- ARGV: action (ban, unban, trust, untrust or reset-limits), moderator
-- name, moderator uid, note, author id.
-- Returns {approved, rejected, banned, trusted, keys deleted, audit id}.

local flags = {ban = {'banned', true}, unban = {'banned', false},
    trust = {'trusted', true}, untrust = {'trusted', false}}
local action = ARGV[1]
if #KEYS < 2 or #ARGV ~= 5 or (flags[action] == nil and
    action ~= 'reset-limits') or (action ~= 'reset-limits' and
    #KEYS ~= 2) then
	return redis.error_reply('ERR commentd author: expected the record ' ..
	    'and audit keys (and for reset-limits the limit keys), an ' ..
	    'action and 4 arguments')
end

local deleted = 0
if action == 'reset-limits' then
	for i = 3, #KEYS do
		deleted = deleted + redis.call('DEL', KEYS[i])
	end
elseif flags[action][2] then
	redis.call('HSET', KEYS[1], flags[action][1], '1')
else
	redis.call('HDEL', KEYS[1], flags[action][1])
end

local time = redis.call('TIME')
local at_ms = string.format('%.0f', tonumber(time[1]) * 1000 +
    math.floor(tonumber(time[2]) / 1000))
local aid = redis.call('XADD', KEYS[2], '*', 'at_ms', at_ms,
    'moderator', ARGV[2], 'uid', ARGV[3], 'action', action,
    'target', ARGV[5], 'note', ARGV[4], 'reason', '')

local rec = redis.call('HMGET', KEYS[1], 'approved', 'rejected', 'banned',
    'trusted')
local function count(v)
	local x = tonumber(v)
	if x == nil or x ~= x or x < 0 then
		return 0
	end
	return math.floor(x)
end
return {count(rec[1]), count(rec[2]), rec[3] == '1' and 1 or 0,
    rec[4] == '1' and 1 or 0, deleted, aid}
