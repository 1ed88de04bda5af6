-- wrk script: GET /api/v1/campus/students/{id}[SUFFIX] with the token in
-- $ATRIUM_TOKEN (the registrar's: reads any student), the id random in
-- STUDENT_FIRST..STUDENT_LAST; SUFFIX is "" (profile) or "/schedule".
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end

local token = os.getenv("ATRIUM_TOKEN")
local first = tonumber(os.getenv("STUDENT_FIRST") or "1")
local last = tonumber(os.getenv("STUDENT_LAST") or "1")
local suffix = os.getenv("SUFFIX") or ""
function init(args)
    math.randomseed(os.time() * 100 + tid)
end

request = function()
    return wrk.format("GET", string.format("/api/v1/campus/students/%d%s", math.random(first, last), suffix), {
        ["Authorization"] = "Bearer " .. token,
    })
end
