-- One scenario of bench/api_load.py, driven by wrk:
--   wrk -t4 -c4 -d10s -s bench/wrk/load.lua URL -- MODE EXPECTED_STATUS TOKEN ETAG CONFIG_A CONFIG_B
-- MODE is "get" or "put". A PUT thread writes to its own config (URL path + thread index)
-- with one connection, so expected_version always names the version its last answer
-- reported: no writer ever conflicts with another. done() prints one JSON line.

local counter = 0
local threads = {}

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local function slurp(path)
  if path == nil or path == "" or path == "-" then return nil end
  local file = assert(io.open(path, "r"))
  local text = file:read("*a")
  file:close()
  return text
end

function init(args)
  mode = args[1]
  expected = tonumber(args[2])
  local headers = {}
  if args[3] ~= nil and args[3] ~= "-" then headers["Authorization"] = "Token " .. args[3] end
  if args[4] ~= nil and args[4] ~= "-" then headers["If-None-Match"] = args[4] end
  headers["Accept"] = "application/json"
  if mode == "put" then
    headers["Content-Type"] = "application/json"
    configs = { slurp(args[5]), slurp(args[6]) }
    path = wrk.path .. index .. "/"
  else
    path = wrk.path
  end
  request_headers = headers
  version = 1
  sent = 0
  ok = 0
  bad = 0
  get_request = wrk.format("GET", path, headers)
end

function request()
  if mode ~= "put" then return get_request end
  sent = sent + 1
  local body = '{"expected_version":' .. version .. ',"reason":"load test","config":'
    .. configs[sent % 2 + 1] .. '}'
  return wrk.format("PUT", path, request_headers, body)
end

function response(status, headers, body)
  if status == expected then ok = ok + 1 else bad = bad + 1 end
  if mode == "put" and body ~= nil then
    local current = body:match('"current_version":%s*(%d+)')
    if current ~= nil then version = tonumber(current) end
  end
end

function done(summary, latency, requests)
  local good, wrong = 0, 0
  for _, thread in ipairs(threads) do
    good = good + thread:get("ok")
    wrong = wrong + thread:get("bad")
  end
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"expected_status":%d,"unexpected_status":%d,'
      .. '"socket_errors":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, good, wrong,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
