-- wrk script: POST /api/v1/codepop/orders as an account user, spread over
-- stores and drinks, each with its own Idempotency-Key.
local token = os.getenv("ATRIUM_TOKEN")
local pickup = os.getenv("PICKUP_TIME")
local stores = tonumber(os.getenv("STORES") or "25")
local n = 0
request = function()
    n = n + 1
    local body = string.format('{"store_id":%d,"items":[{"drink_id":%d,"quantity":1}],"pickup_time":"%s"}',
        math.random(1, stores), math.random(1, 20), pickup)
    return wrk.format("POST", "/api/v1/codepop/orders", {
        ["Authorization"] = "Bearer " .. token,
        ["Content-Type"] = "application/json",
        ["Idempotency-Key"] = string.format("bench-%d-%d-%d", os.time(), math.random(1, 1e9), n),
    }, body)
end
