-- wrk script: POST auth/approle/login with a role_id and a secret_id that
-- never runs out (secret_id_num_uses=0), from $APPROLE_ROLE_ID and
-- $APPROLE_SECRET_ID. Every request mints a service token. Prints one
-- parseable summary line (same format as report.lua).
local body = string.format('{"role_id":"%s","secret_id":"%s"}',
                           os.getenv("APPROLE_ROLE_ID") or "",
                           os.getenv("APPROLE_SECRET_ID") or "")
local headers = { ["Content-Type"] = "application/json" }

request = function()
  return wrk.format("POST", "/v1/auth/approle/login", headers, body)
end

-- The summary line comes from report.lua, next to this script.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")
