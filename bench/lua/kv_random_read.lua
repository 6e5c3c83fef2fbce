-- wrk script: GET secret/data/scale/k<i> for a uniformly random i in
-- [0, $SCALE_KEYS), with the token in $COFFER_TOKEN (kv_scale; the keys are
-- written by bench/kv_populate). Prints one parseable summary line.
local keys = tonumber(os.getenv("SCALE_KEYS") or "1000")
local headers = { ["X-Vault-Token"] = os.getenv("COFFER_TOKEN") or "" }

init = function(args)
  math.randomseed(os.time())
end

request = function()
  return wrk.format("GET", "/v1/secret/data/scale/k" .. math.random(0, keys - 1), headers)
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
