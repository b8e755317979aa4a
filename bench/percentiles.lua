-- wrk prints p50/75/90/99 only: this prints one JSON line of our own at the
-- end, with p95 and the counts run.sh needs (latencies in milliseconds).
-- With WRK_COUNT_STATUS set, it also counts the answers 304 Not Modified
-- ("not_modified"; wrk calls `response` only when it is defined, and slower).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

if os.getenv("WRK_COUNT_STATUS") then
  function init(args)
    not_modified = 0
  end

  function response(status, headers, body)
    if status == 304 then not_modified = not_modified + 1 end
  end
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  local counted = -1
  if os.getenv("WRK_COUNT_STATUS") then
    counted = 0
    for _, thread in ipairs(threads) do counted = counted + thread:get("not_modified") end
  end
  io.write(string.format(
    '{"requests": %d, "seconds": %.2f, "rps": %.1f, "p50": %.2f, "p90": %.2f, "p95": %.2f, ' ..
    '"p99": %.2f, "max": %.2f, "bad_status": %d, "socket_errors": %d, "not_modified": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout, counted))
end
