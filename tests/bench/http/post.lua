-- post.lua: wrk posts varied comments to POST /v1/check, as a web backend
-- would, over wrk's keep-alive connections.
--
-- usage: wrk -t1 -c32 -d10s -s post.lua http://127.0.0.1:PORT -- COMMENTS.jsonl
--
-- COMMENTS.jsonl is what tests/tools/olid_to_jsonl.py writes: one comment a
-- line, {"id", "body", "author": {...}, "label"}.  Each line becomes one
-- request body as it is, less the corpus's "label" (a backend would not send
-- it); every request is formatted once, in init(), so the timed part only
-- hands wrk the next prepared string, round the corpus.  done() prints the
-- rate and the latency percentiles, and one "result" line that
-- run-http-bench.sh reads.  Non-2xx answers and socket errors are counted
-- and printed: a run that was refused is not a figure.

local requests = {}
local next_request = 1
local thread_count = 0

-- Gives each thread its number, so several threads start at different
-- places in the corpus rather than all posting the same comment.
function setup(thread)
   thread:set("thread_index", thread_count)
   thread_count = thread_count + 1
end

function init(args)
   local path = args[1] or os.getenv("COMMENTS_JSONL")
   if path == nil then
      error("post.lua: give the comments file after --, or set COMMENTS_JSONL")
   end
   local f, err = io.open(path, "r")
   if f == nil then
      error("post.lua: " .. err)
   end
   local headers = { ["Content-Type"] = "application/json" }
   for line in f:lines() do
      -- olid_to_jsonl.py writes "label" last: drop it, keep the object.
      local body = line:gsub(',%s*"label":%s*"[^"]*"}%s*$', "}")
      if body:find("%S") then
         requests[#requests + 1] = wrk.format("POST", "/v1/check", headers, body)
      end
   end
   f:close()
   if #requests == 0 then
      error("post.lua: no comments in " .. path)
   end
   local index = tonumber(wrk.thread:get("thread_index") or 0) or 0
   next_request = (index * 7919) % #requests + 1
end

function request()
   local r = requests[next_request]
   next_request = next_request + 1
   if next_request > #requests then
      next_request = 1
   end
   return r
end

function done(summary, latency, requests_stats)
   local seconds = summary.duration / 1e6
   local e = summary.errors
   local errors = e.connect + e.read + e.write + e.timeout
   local rate = summary.requests / seconds
   local function ms(p)
      return latency:percentile(p) / 1000
   end
   io.write(string.format("requests    %d in %.2f s: %.0f requests/s, %.0f bytes read a request\n",
      summary.requests, seconds, rate, summary.bytes / math.max(summary.requests, 1)))
   io.write(string.format("latency     p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms\n",
      ms(50), ms(90), ms(99), ms(99.9), latency.max / 1000))
   io.write(string.format("errors      non-2xx %d, connect %d, read %d, write %d, timeout %d\n",
      e.status, e.connect, e.read, e.write, e.timeout))
   io.write(string.format("result rps=%.0f p50_ms=%.3f p99_ms=%.3f non2xx=%d errors=%d requests=%d\n",
      rate, ms(50), ms(99), e.status, errors, summary.requests))
end
