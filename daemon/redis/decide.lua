-- decide: a moderator's outcome for one queued comment, all or nothing.
--
-- The contract is docs/redis.md ("decide").  One call checks that the
-- comment is still in the queue as the daemon read it, adds the outcome to
-- the decisions stream (which backends read through GET /v1/decisions),
-- takes the entry out of the queue (XACK, then XDEL), marks the comment
-- decided in the queued index (so a retried submission is never queued
-- again: enqueue.lua finds it there), counts it on the author's record and
-- appends the moderator's action to the audit stream.  It must never decide
-- a comment twice, never write anything when it refuses, never trim a
-- stream, and never touch a key it was not given in KEYS.
--
-- KEYS: queue stream, queued index hash, decisions stream, audit stream,
-- the author's record hash.
-- ARGV: comment id, its entry's stream id (as the daemon read it), outcome
-- ("approve" or "reject"), reason code ("" for approve), note, moderator
-- name, moderator uid, author id, rules (comma-separated rule ids).
-- Returns {"ok", decision stream id, at_ms, approved, rejected}, or one
-- word: "unknown" (no such comment was queued), "decided" (it already was),
-- "changed" (the queued entry is not the one the daemon read, or has
-- another author), "gone" (the index names an entry the stream lost).

if #KEYS ~= 5 or #ARGV ~= 9 or ARGV[1] == '' or ARGV[2] == '' or
    (ARGV[3] ~= 'approve' and ARGV[3] ~= 'reject') then
	return redis.error_reply('ERR commentd decide: expected 5 keys, ' ..
	    'a comment id, a stream id, approve or reject and 6 more arguments')
end
local id, sid, outcome, reason, note = ARGV[1], ARGV[2], ARGV[3], ARGV[4],
    ARGV[5]
local moderator, uid, author, rules = ARGV[6], ARGV[7], ARGV[8], ARGV[9]

local cur = redis.call('HGET', KEYS[2], id)
if not cur then
	return {'unknown'}
elseif cur == 'decided' then
	return {'decided'}
elseif cur ~= sid then
	return {'changed'}
end

local entries = redis.call('XRANGE', KEYS[1], sid, sid)
if #entries == 0 then
	return {'gone'}
end
local fields, thread, entry_author = entries[1][2], '', nil
for i = 1, #fields, 2 do
	if fields[i] == 'author_id' then
		entry_author = fields[i + 1]
	elseif fields[i] == 'thread' then
		thread = fields[i + 1]
	end
end
if entry_author ~= author then
	return {'changed'}
end

local time = redis.call('TIME')
local at_ms = string.format('%.0f', tonumber(time[1]) * 1000 +
    math.floor(tonumber(time[2]) / 1000))

local did = redis.call('XADD', KEYS[3], '*', 'id', id, 'outcome', outcome,
    'reason', reason, 'note', note, 'moderator', moderator, 'uid', uid,
    'at_ms', at_ms, 'author_id', author, 'thread', thread, 'rules', rules)
-- The group exists whenever the stream does (enqueue.lua makes both); an
-- entry nobody claimed is simply not pending, and XACK says 0.
redis.call('XACK', KEYS[1], 'moderators', sid)
redis.call('XDEL', KEYS[1], sid)
redis.call('HSET', KEYS[2], id, 'decided')
local approved = redis.call('HINCRBY', KEYS[5], 'approved',
    outcome == 'approve' and 1 or 0)
local rejected = redis.call('HINCRBY', KEYS[5], 'rejected',
    outcome == 'reject' and 1 or 0)
redis.call('XADD', KEYS[4], '*', 'at_ms', at_ms, 'moderator', moderator,
    'uid', uid, 'action', outcome, 'target', id, 'note', note,
    'reason', reason)
return {'ok', did, at_ms, approved, rejected}
