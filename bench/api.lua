-- wrk script of bench/api_bench.py: one kind of request per run (env MODE),
-- the status of every answer counted; done() prints them ("status 200 1234")
-- and the next unused item ("next 5678") for the bench to check and go on from.
--   MODE=get       GET TARGET
--   MODE=select    GET /bench/select?code=<ticket>, the tickets of TICKETS in turn
--   MODE=scan      POST /api/v1/checkin as TOKEN at EVENT_ID: ticket START + n of
--                  TICKETS, each once, with a nonce of its own (RUN varies it)
--   MODE=register  POST /api/v1/events/<id>/registrations as member START + n
--                  (the token on line START + n of TOKENS), each once; <id> in
--                  turn from EVENTS (comma-separated ids)
-- Past the end of TICKETS or TOKENS (scan, register) a request goes to a path
-- that answers 404: the bench then fails loudly rather than reuse an item.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local function read_lines(path)
  local items = {}
  for line in io.lines(path) do items[#items + 1] = line end
  return items
end

function init(args)
  mode = os.getenv("MODE")
  nthreads = tonumber(os.getenv("WRK_THREADS"))
  start = tonumber(os.getenv("START") or "0")
  run = tonumber(os.getenv("RUN") or "0")
  -- Globals: done() reads them from each thread.
  counter, last, statuses = 0, -1, {}
  wrk.headers["X-Forwarded-Proto"] = "https"
  if mode == "get" then
    target = os.getenv("TARGET")
  elseif mode == "select" or mode == "scan" then
    items = read_lines(os.getenv("TICKETS"))
  elseif mode == "register" then
    items = read_lines(os.getenv("TOKENS"))
    events = {}
    for event in string.gmatch(os.getenv("EVENTS"), "[^,]+") do events[#events + 1] = event end
  else
    error("unknown MODE " .. tostring(mode))
  end
  if mode == "scan" or mode == "register" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
  end
  if mode == "scan" then
    wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
    event_id = os.getenv("EVENT_ID")
  end
end

function request()
  if mode == "get" then
    return wrk.format("GET", target)
  end
  local i = counter * nthreads + id
  counter = counter + 1
  if mode == "select" then
    return wrk.format("GET", "/bench/select?code=" .. items[(i % #items) + 1])
  end
  i = start + i
  last = i
  if i >= #items then
    return wrk.format("GET", "/api/v1/bench-ran-out-of-" .. mode .. "-items")
  end
  if mode == "scan" then
    local nonce = string.format("%08x-%04x-4%03x-8000-%012x", start, id, run, counter)
    local body = '{"ticket_code":"' .. items[i + 1] .. '","event_id":"' .. event_id .. '","nonce":"' .. nonce .. '"}'
    return wrk.format(nil, "/api/v1/checkin", nil, body)
  end
  wrk.headers["Authorization"] = "Bearer " .. items[i + 1]
  return wrk.format(nil, "/api/v1/events/" .. events[(i % #events) + 1] .. "/registrations", nil, "")
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts, next_item = {}, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do counts[status] = (counts[status] or 0) + n end
    next_item = math.max(next_item, thread:get("last") + 1)
  end
  for status, n in pairs(counts) do io.write(string.format("status %d %d\n", status, n)) end
  io.write(string.format("next %d\n", next_item))
end
