-- wrk script: KV v2 writes to distinct keys. Each wrk thread has an id and a
-- counter, so every request writes a new secret bench/t<id>-<n> with a
-- ~200-byte value. The token comes from $COFFER_TOKEN. Prints one parseable
-- summary line at the end (same format as report.lua).
local thread_id = 0

setup = function(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end

local counter = 0
local body = '{"data":{"v":"' .. string.rep("v", 200) .. '"}}'
local headers = {
  ["X-Vault-Token"] = os.getenv("COFFER_TOKEN") or "",
  ["Content-Type"] = "application/json",
}

request = function()
  counter = counter + 1
  return wrk.format("POST", "/v1/secret/data/bench/t" .. id .. "-" .. counter, headers, body)
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
