-- wrk script: POST /api/v1/groupbuy/groups/{id}/join as a trader, quantity 1,
-- spread over the open groups GROUP_FIRST..GROUP_LAST, each with its own
-- Idempotency-Key (per-thread prefix: wrk threads share the random sequence).
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end

local token = os.getenv("ATRIUM_TOKEN")
local first = tonumber(os.getenv("GROUP_FIRST") or "1")
local last = tonumber(os.getenv("GROUP_LAST") or "1")
local n = 0
function init(args)
    math.randomseed(os.time() * 100 + tid)
end

request = function()
    n = n + 1
    return wrk.format("POST", string.format("/api/v1/groupbuy/groups/%d/join", math.random(first, last)), {
        ["Authorization"] = "Bearer " .. token,
        ["Content-Type"] = "application/json",
        ["Idempotency-Key"] = string.format("bench-%d-%d-%d", os.time(), tid, n),
    }, '{"quantity":1}')
end
