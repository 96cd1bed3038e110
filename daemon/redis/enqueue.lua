-- enqueue: adds a queued comment to the site's moderation stream, once.
--
-- The contract is docs/redis.md ("enqueue").  The queued hash maps a comment
-- id to its entry's stream id, so a retried submission or a spool replay
-- after Redis came back finds the entry it already made.  It must never add
-- a second entry for one id and never trim the stream: queue keys never
-- expire and nothing queued is ever lost.
--
-- KEYS: queue stream, queued index hash.  ARGV: comment id, then the
-- entry's field, value pairs.  Returns {stream_id, 1} when it added the
-- entry, {stream_id, 0} when the id was already queued.

if #KEYS ~= 2 or #ARGV < 3 or #ARGV % 2 ~= 1 or ARGV[1] == '' then
	return redis.error_reply('ERR commentd enqueue: expected 2 keys, ' ..
	    'a comment id and field, value pairs')
end

local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then
	return {existing, 0}
end

-- First use: the stream and its group come together, the group at id 0 so
-- it delivers every entry the stream will hold.
if redis.call('EXISTS', KEYS[1]) == 0 then
	redis.call('XGROUP', 'CREATE', KEYS[1], 'moderators', '0', 'MKSTREAM')
end

local fields = {}
for i = 2, #ARGV do
	fields[i - 1] = ARGV[i]
end
local sid = redis.call('XADD', KEYS[1], '*', unpack(fields))
redis.call('HSET', KEYS[2], ARGV[1], sid)
return {sid, 1}
