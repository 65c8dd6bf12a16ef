-- A paced run: each connection waits WRK_DELAY_MS between its requests, so the
-- offered rate is connections × 1000 / WRK_DELAY_MS requests/s, below what every
-- target can serve. Its latencies are then the time a proxy adds to a request,
-- not queueing behind a saturated core. Reports like wrk-report.lua (loaded here).
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "25")
dofile(os.getenv("WRK_REPORT_LUA"))
function delay()
  return delay_ms
end
