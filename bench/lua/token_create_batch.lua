-- wrk script: POST auth/token/create for a BATCH token (a child of the
-- calling token with the default policy and a 1 h TTL): nothing is written to
-- storage, the token is the sealed entry. The token comes from $COFFER_TOKEN.
-- Prints one parseable summary line (same format as report.lua).
local body = '{"policies":["default"],"ttl":"1h","type":"batch"}'
local headers = {
  ["X-Vault-Token"] = os.getenv("COFFER_TOKEN") or "",
  ["Content-Type"] = "application/json",
}

request = function()
  return wrk.format("POST", "/v1/auth/token/create", headers, body)
end

-- The summary line comes from report.lua, next to this script.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")
