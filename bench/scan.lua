-- wrk script: POST /api/v1/checkin, a distinct ticket per request.
-- env: TICKETS (file, one code per line), START (first index), EVENT_ID, TOKEN
local counter, tickets, threads = 0, {}, {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("TICKETS")) do tickets[#tickets + 1] = line end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
  wrk.headers["X-Forwarded-Proto"] = "https"
  nthreads = tonumber(os.getenv("WRK_THREADS"))
  start = tonumber(os.getenv("START") or "0")
  run = tonumber(os.getenv("RUN") or "0")
end

function request()
  local i = start + counter * nthreads + id
  counter = counter + 1
  local code = tickets[(i % #tickets) + 1]
  local nonce = string.format("%08x-%04x-4%03x-8000-%012x", start, id, run, counter)
  local body = '{"ticket_code":"' .. code .. '","event_id":"' .. os.getenv("EVENT_ID") .. '","nonce":"' .. nonce .. '"}'
  return wrk.format(nil, "/api/v1/checkin", nil, body)
end
