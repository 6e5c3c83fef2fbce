-- wrk script: POST auth/token/create with a small body (a child of the
-- calling token with the default policy and a 1 h TTL). The token comes from
-- $COFFER_TOKEN; $TOKEN_TYPE=batch asks for a batch token (nothing is written
-- to storage). Prints one parseable summary line (same format as report.lua).
local token_type = os.getenv("TOKEN_TYPE") or "service"
local body = '{"policies":["default"],"ttl":"1h","type":"' .. token_type .. '"}'
local headers = {
  ["X-Vault-Token"] = os.getenv("COFFER_TOKEN") or "",
  ["Content-Type"] = "application/json",
}

request = function()
  return wrk.format("POST", "/v1/auth/token/create", headers, body)
end

-- The summary line comes from report.lua, next to this script.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")
