-- wrk script for B1/B7: POST the contract's Sync operation for a seeded user picked at random.
--
--   wrk -t1 -c16 -d5s -s benchmarks/sync.lua http://127.0.0.1:8765/graphql -- BODIES_FILE TOKEN
--
-- BODIES_FILE holds one JSON request body per line, one per seeded user: the Sync operation as
-- the contract writes it, with that user's id and e-mail (benchmarks/server_app.py writes it).
-- The same script drives the bare baseline (url .../bare): the same requests, the same bytes.
-- `done` prints one JSON line (prefixed BENCH_JSON) that benchmarks/http_load.py parses.

local bodies = {}

local thread_count = 0
function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  local path, token = args[1], args[2]
  for line in io.lines(path) do
    if #line > 0 then bodies[#bodies + 1] = line end
  end
  if #bodies == 0 then error("no request bodies in " .. tostring(path)) end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
  -- Each thread its own sequence (thread_index is set by setup before init runs).
  math.randomseed(os.time() * 1000 + (tonumber(thread_index) or 0))
end

function request()
  return wrk.format(nil, nil, nil, bodies[math.random(#bodies)])
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":%d,"status_errors":%d,'
      .. '"p50_us":%d,"p75_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect + errors.read + errors.write + errors.timeout, errors.status,
    latency:percentile(50), latency:percentile(75), latency:percentile(90), latency:percentile(99),
    latency.mean))
end
