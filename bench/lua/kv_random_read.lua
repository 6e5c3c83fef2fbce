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

-- The summary line comes from report.lua, next to this script.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")

