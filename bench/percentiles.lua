-- wrk prints p50/75/90/99 only: this prints one JSON line of our own at the
-- end, with p95 and the counts run.sh needs (latencies in milliseconds).
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.2f, "rps": %.1f, "p50": %.2f, "p90": %.2f, "p95": %.2f, ' ..
    '"p99": %.2f, "max": %.2f, "bad_status": %d, "socket_errors": %d}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
