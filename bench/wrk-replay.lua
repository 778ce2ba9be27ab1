-- Replays presigned request targets (one per line) round-robin; args: file method bodySize offset.
-- Prints one line "WRKJSON {...}" from done() with counts and latency percentiles in microseconds.
local targets = {}
local method = "GET"
local body = nil
local idx = 0

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then targets[#targets + 1] = line end
  end
  method = args[2] or "GET"
  local size = tonumber(args[3] or "0")
  if size > 0 then
    -- Not all one byte, so nothing can shortcut on content.
    local block = {}
    for i = 1, size do block[i] = string.char(97 + (i * 7) % 26) end
    body = table.concat(block)
  end
  idx = tonumber(args[4] or "0") % #targets
end

function request()
  idx = idx + 1
  if idx > #targets then idx = 1 end
  return wrk.format(method, targets[idx], nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"status_errors":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,' ..
    '"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
