-- wrk script: POST /api/v1/codepop/orders as an account user, spread over
-- stores and drinks, each with its own Idempotency-Key (per-thread prefix:
-- wrk threads have separate Lua states with the same random sequence).
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end

local token = os.getenv("ATRIUM_TOKEN")
local pickup = os.getenv("PICKUP_TIME")
local stores = tonumber(os.getenv("STORES") or "25")
local n = 0
function init(args)
    math.randomseed(os.time() * 100 + tid)
end

request = function()
    n = n + 1
    local body = string.format('{"store_id":%d,"items":[{"drink_id":%d,"quantity":1}],"pickup_time":"%s"}',
        math.random(1, stores), math.random(1, 20), pickup)
    return wrk.format("POST", "/api/v1/codepop/orders", {
        ["Authorization"] = "Bearer " .. token,
        ["Content-Type"] = "application/json",
        ["Idempotency-Key"] = string.format("bench-%d-%d-%d", os.time(), tid, n),
    }, body)
end
