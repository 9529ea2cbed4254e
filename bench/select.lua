-- wrk script: GET /bench/select?code=..., the one-SELECT baseline.
local counter, tickets, threads = 0, {}, {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("TICKETS")) do tickets[#tickets + 1] = line end
  wrk.headers["X-Forwarded-Proto"] = "https"
  nthreads = tonumber(os.getenv("WRK_THREADS"))
end

function request()
  local i = counter * nthreads + id
  counter = counter + 1
  return wrk.format("GET", "/bench/select?code=" .. tickets[(i % #tickets) + 1])
end
