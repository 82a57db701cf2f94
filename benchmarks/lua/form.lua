-- A form-encoded write for wrk: `wrk ... -s form.lua URL -- METHOD BODY`.
-- "{n}" in BODY becomes a counter (per wrk thread, prefixed by the thread's number), so that
-- every request writes a new value. The -H headers (the session cookie) are kept.
local counter = 0
local method, template, prefix

function setup(thread)
  prefix = (prefix or 0) + 1
  thread:set("thread_id", prefix)
end

function init(args)
  method = args[1]
  template = args[2]
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  counter = counter + 1
  local n = tostring(thread_id or 0) .. "-" .. tostring(counter)
  local body = string.gsub(template, "{n}", n)
  return wrk.format(method, nil, nil, body)
end
