-- A CI fleet for wrk: `wrk ... -s mixed.lua URL -- LIST ITEM SU_LIST SU_ITEM LAST_UPDATE ETAG`.
-- Each connection cycles through five requests, as bots and pollers do: a filtered list of
-- review requests, one review request, a new status update (POST), an update of an existing
-- one (PUT), and a last-update poll with If-None-Match (answered 304 while nothing changed).
-- The -H headers (the session cookie) go with every request.
local i = 0
local counter = 0
local calls

local function headers(extra)
  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

function init(args)
  local form = {["Content-Type"] = "application/x-www-form-urlencoded"}
  calls = {
    function() return wrk.format("GET", args[1], headers()) end,
    function() return wrk.format("GET", args[2], headers()) end,
    function()
      return wrk.format("POST", args[3], headers(form),
        "service_id=ci.fleet&summary=build&state=pending&description=queued+" .. counter)
    end,
    function()
      return wrk.format("PUT", args[4], headers(form),
        "state=done-success&description=passed+" .. counter)
    end,
    function() return wrk.format("GET", args[5], headers({["If-None-Match"] = args[6]})) end,
  }
end

function request()
  counter = counter + 1
  i = i % #calls + 1
  return calls[i]()
end
