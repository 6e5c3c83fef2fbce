-- wrk script: POST auth/token/create with a small body (a child of the
-- calling token with the default policy and a 1 h TTL). The token comes from
-- $COFFER_TOKEN. Prints one parseable summary line (same format as report.lua).
local body = '{"policies":["default"],"ttl":"1h"}'
local headers = {
  ["X-Vault-Token"] = os.getenv("COFFER_TOKEN") or "",
  ["Content-Type"] = "application/json",
}

request = function()
  return wrk.format("POST", "/v1/auth/token/create", headers, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_timeout=%d non2xx=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status))
end
