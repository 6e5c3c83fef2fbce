-- wrk script: transit encrypt of a 32-byte plaintext on the key named by
-- $TRANSIT_KEY (default "bench"), token from $COFFER_TOKEN. With
-- $TRANSIT_BATCH=N, one request carries batch_input of N items instead.
-- Prints one parseable summary line at the end (same format as report.lua).
local key = os.getenv("TRANSIT_KEY") or "bench"
local batch = tonumber(os.getenv("TRANSIT_BATCH") or "0")
-- base64 of 32 bytes: "coffer transit benchmark 32 byte"
local plaintext = "Y29mZmVyIHRyYW5zaXQgYmVuY2htYXJrIDMyIGJ5dGU="
local body
if batch > 0 then
  local items = {}
  for i = 1, batch do items[i] = '{"plaintext":"' .. plaintext .. '"}' end
  body = '{"batch_input":[' .. table.concat(items, ",") .. ']}'
else
  body = '{"plaintext":"' .. plaintext .. '"}'
end
local headers = {
  ["X-Vault-Token"] = os.getenv("COFFER_TOKEN") or "",
  ["Content-Type"] = "application/json",
}
local req = wrk.format("POST", "/v1/transit/encrypt/" .. key, headers, body)

request = function()
  return req
end

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")
