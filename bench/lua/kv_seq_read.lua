-- wrk script: GET secret/data/scale/k0, k1, ... k<$SCALE_KEYS - 1> in order,
-- then around again, with the token in $COFFER_TOKEN: reads every key of a
-- kv_scale store once, to fill a read cache sized to hold the whole store.
-- Prints one parseable summary line.
local keys = tonumber(os.getenv("SCALE_KEYS") or "1000")
local headers = { ["X-Vault-Token"] = os.getenv("COFFER_TOKEN") or "" }
local next_key = 0

request = function()
  local k = next_key % keys
  next_key = next_key + 1
  return wrk.format("GET", "/v1/secret/data/scale/k" .. k, headers)
end

-- The summary line comes from report.lua, next to this script.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")
