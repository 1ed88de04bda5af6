-- wrk script: POST /api/v1/campus/payments as a cashier, AMOUNT_CENTS in cash
-- for a random student in STUDENT_FIRST..STUDENT_LAST (all assessed), each
-- with its own Idempotency-Key (per-thread prefix: wrk threads share the
-- random sequence).
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end

local token = os.getenv("ATRIUM_TOKEN")
local first = tonumber(os.getenv("STUDENT_FIRST") or "1")
local last = tonumber(os.getenv("STUDENT_LAST") or "1")
local amount = tonumber(os.getenv("AMOUNT_CENTS") or "5000")
local n = 0
function init(args)
    math.randomseed(os.time() * 100 + tid)
end

request = function()
    n = n + 1
    return wrk.format("POST", "/api/v1/campus/payments", {
        ["Authorization"] = "Bearer " .. token,
        ["Content-Type"] = "application/json",
        ["Idempotency-Key"] = string.format("bench-pay-%d-%d-%d", os.time(), tid, n),
    }, string.format('{"student_id":%d,"amount_cents":%d,"method":"cash"}', math.random(first, last), amount))
end
