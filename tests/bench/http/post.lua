-- post.lua: wrk posts varied comments to POST /v1/check, as a web backend
-- would, over wrk's keep-alive connections.
--
-- usage: wrk -t1 -c32 -d10s -s post.lua http://127.0.0.1:PORT -- COMMENTS.jsonl
--        wrk -tN ... -s post.lua URL -- COMMENTS.jsonl AUTHORS [START [N]]
--
-- COMMENTS.jsonl is what tests/tools/olid_to_jsonl.py writes: one comment a
-- line, {"id", "body", "author": {...}, "label"}.
--
-- With the file alone, each line becomes one request body as it is, less
-- the corpus's "label" (a backend would not send it); every request is
-- formatted once, in init(), so the timed part only hands wrk the next
-- prepared string, round the corpus.  That is for a daemon without Redis:
-- with Redis, every comment after the first pass would be a retry (the same
-- id) or a duplicate (the same text from the same author).
--
-- With AUTHORS (a number), every request is a new comment, as a site's
-- traffic is: request number U (START, default 0, plus a counter, so wrk
-- runs that follow one another go on where the last stopped; with N
-- threads, given again after START, thread i takes START + i, + i + N, and
-- so on, so no two threads send the same number) gets the id
-- "bench-U", the author "a" .. U % AUTHORS with the ip 10.x.y.z of that
-- author (so the pool is walked in turn, each author's comments AUTHORS
-- requests apart, which keeps them under the rate limits when AUTHORS is
-- large enough), one of 997 threads, and the corpus's body with " #U"
-- appended, which makes its fingerprint unique (no duplicate rule fires)
-- without looking like a phone or card number below 10^9.
--
-- done() prints the rate and the latency percentiles, and one "result" line
-- that the scripts read (with next_start=, where a following run should
-- start).  Non-2xx answers and socket errors are counted and printed: a run
-- that was refused is not a figure.

local requests = {}
local bodies = {}
local next_request = 1
local thread_count = 0
local threads = {}
local authors = 0
local stride = 1
local start = 0
-- The thread's next comment number; global, so that done() can read it
-- with thread:get().
counter = 0
local headers = { ["Content-Type"] = "application/json" }

-- POST_THINK_MS: each connection waits a random 0 to 2 x this many ms
-- (integers: wrk's timers count milliseconds) before each request, so N
-- connections offer about N x 1000 / (POST_THINK_MS + latency) requests a
-- second, spread out rather than in step: how run-http-bench.sh holds a
-- rate below the peak, which wrk cannot otherwise do.  wrk looks for
-- delay() before init(), so the environment decides, not an argument.
local think_ms = tonumber(os.getenv("POST_THINK_MS") or "")
if think_ms ~= nil and think_ms > 0 then
   function delay()
      return math.random(0, 2 * think_ms)
   end
end

-- Gives each thread its number, so several threads start at different
-- places in the corpus rather than all posting the same comment, and keeps
-- the threads so that done() can read their counters.
function setup(thread)
   thread:set("thread_index", thread_count)
   thread_count = thread_count + 1
   threads[#threads + 1] = thread
end

-- Reads the corpus: whole request bodies, or only the body strings (as
-- JSON string contents, still escaped) when each request is made anew.
local function load(path, vary)
   local f, err = io.open(path, "r")
   if f == nil then
      error("post.lua: " .. err)
   end
   for line in f:lines() do
      if vary then
         -- olid_to_jsonl.py writes "body" second and "author" third; the
         -- greedy match ends at the last ", "author": {", which is the
         -- real one, since quotes inside the body are escaped.
         local body = line:match('^{"id": "[^"]*", "body": "(.*)", "author": {')
         if body ~= nil then
            bodies[#bodies + 1] = body
         end
      else
         -- olid_to_jsonl.py writes "label" last: drop it, keep the object.
         local body = line:gsub(',%s*"label":%s*"[^"]*"}%s*$', "}")
         if body:find("%S") then
            requests[#requests + 1] = wrk.format("POST", "/v1/check", headers, body)
         end
      end
   end
   f:close()
end

function init(args)
   local path = args[1] or os.getenv("COMMENTS_JSONL")
   if path == nil then
      error("post.lua: give the comments file after --, or set COMMENTS_JSONL")
   end
   if args[2] ~= nil then
      authors = tonumber(args[2])
      start = tonumber(args[3] or "0")
      stride = tonumber(args[4] or "1")
      if authors == nil or authors < 1 or start == nil or start < 0 or
         stride == nil or stride < 1 then
         error("post.lua: AUTHORS and N must be positive numbers and START a count")
      end
   end
   load(path, authors > 0)
   local n = authors > 0 and #bodies or #requests
   if n == 0 then
      error("post.lua: no comments in " .. path)
   end
   local index = tonumber(wrk.thread:get("thread_index") or 0) or 0
   next_request = (index * 7919) % n + 1
   counter = start + index
   math.randomseed(index + 1)
end

-- The next comment: prepared, or made from its number (see the header).
local function new_comment()
   local u = counter
   counter = counter + stride
   local a = u % authors
   local body = bodies[next_request]
   next_request = next_request % #bodies + 1
   local json = string.format('{"id":"bench-%d","thread":"t%d","author":{"id":"a%d",' ..
      '"name":"reader %d","ip":"10.%d.%d.%d"},"body":"%s #%d"}',
      u, u % 997, a, a, math.floor(a / 65536) % 256, math.floor(a / 256) % 256,
      a % 256, body, u)
   return wrk.format("POST", "/v1/check", headers, json)
end

function request()
   if authors > 0 then
      return new_comment()
   end
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
   -- Every number a thread used is below its counter: the next run starts
   -- past the highest, so no comment id is ever sent twice.
   local next_start = 0
   for _, t in ipairs(threads) do
      local c = tonumber(t:get("counter") or 0) or 0
      if c > next_start then
         next_start = c
      end
   end
   local function ms(p)
      return latency:percentile(p) / 1000
   end
   io.write(string.format("requests    %d in %.2f s: %.0f requests/s, %.0f bytes read a request\n",
      summary.requests, seconds, rate, summary.bytes / math.max(summary.requests, 1)))
   io.write(string.format("latency     p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms\n",
      ms(50), ms(90), ms(99), ms(99.9), latency.max / 1000))
   io.write(string.format("errors      non-2xx %d, connect %d, read %d, write %d, timeout %d\n",
      e.status, e.connect, e.read, e.write, e.timeout))
   io.write(string.format("result rps=%.0f p50_ms=%.3f p99_ms=%.3f non2xx=%d errors=%d requests=%d max_ms=%.3f next_start=%d\n",
      rate, ms(50), ms(99), e.status, errors, summary.requests, latency.max / 1000, next_start))
end
