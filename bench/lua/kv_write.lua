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

-- The summary line comes from report.lua, next to this script.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")

