-- Load script for wrk (bench/run.py runs it; not meant to be run by hand).
--
--   wrk -t1 -c2 -d5s -s bench/wrk.lua http://127.0.0.1:PORT -- MODE COOKIE CSRF
--
-- MODE   get_key | put_key | get_session | post_task | flower_send_task | mix
-- COOKIE the Cookie header (session and CSRF cookies), sent on every request
-- CSRF   the X-CSRFToken header, sent on every request (GETs ignore it)
--
-- flower_send_task posts the same task to Flower's task API, which has no session or
-- CSRF: COOKIE and CSRF are empty then, and an empty one is not sent at all.
--
-- Every response is checked: anything outside 2xx is counted, and the first one is
-- kept for the report. The summary line starts with BENCH_JSON for bench/run.py.

local GET_KEY = "/api/v1/session/keys/profile/"
local PUT_KEY = "/api/v1/session/keys/counter/"
local SESSION = "/api/v1/session/"
local TASKS = "/api/v1/tasks/"
local TASK_BODY = '{"name":"demo.add","args":{"a":1,"b":2}}'
-- Flower names the task in the path and takes Celery's kwargs: the same message.
local FLOWER_SEND_TASK = "/api/task/send-task/demo.add"
local FLOWER_BODY = '{"kwargs":{"a":1,"b":2}}'

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1]
  if args[2] ~= "" then
    wrk.headers["Cookie"] = args[2]
  end
  if args[3] ~= "" then
    wrk.headers["X-CSRFToken"] = args[3]
  end
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
  sent = 0
  responses = 0
  non2xx = 0
  first_bad = ""
end

-- A new value on every write, so each PUT really changes the session.
local function put()
  return wrk.format("PUT", PUT_KEY, nil, '{"value":' .. sent .. '}')
end

function request()
  sent = sent + 1
  if mode == "get_key" then
    return wrk.format("GET", GET_KEY)
  elseif mode == "put_key" then
    return put()
  elseif mode == "get_session" then
    return wrk.format("GET", SESSION)
  elseif mode == "post_task" then
    return wrk.format("POST", TASKS, nil, TASK_BODY)
  elseif mode == "flower_send_task" then
    return wrk.format("POST", FLOWER_SEND_TASK, nil, FLOWER_BODY)
  elseif mode == "mix" then
    -- Two key reads, one session read, one key write.
    local step = sent % 4
    if step == 0 then
      return put()
    elseif step == 1 then
      return wrk.format("GET", SESSION)
    end
    return wrk.format("GET", GET_KEY)
  end
  error("unknown mode " .. tostring(mode))
end

function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == "" then
      first_bad = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

local function json_string(text)
  text = string.gsub(text, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. text .. '"'
end

function done(summary, latency, requests)
  local bad, counted, sample = 0, 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
    counted = counted + (thread:get("responses") or 0)
    if sample == "" then
      sample = thread:get("first_bad") or ""
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"responses":%d,"duration_us":%d,"non2xx":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f},'
      .. '"first_bad":%s}\n',
    summary.requests, counted, summary.duration, bad,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, json_string(sample)))
end
