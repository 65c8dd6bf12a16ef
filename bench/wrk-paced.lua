-- A paced run: each connection waits between its requests, so the offered rate is
-- connections × 1000 / WRK_DELAY_MS requests/s, below what every target can serve.
-- Its latencies are then the time a proxy adds to a request, not queueing behind a
-- saturated core. Reports like wrk-report.lua (loaded here).
--
-- WRK_PACED_GAPS=random (default): each gap is drawn from 0..2 × WRK_DELAY_MS (the
-- same mean), so the connections stay independent of each other, like separate
-- clients. WRK_PACED_GAPS=step: every gap is WRK_DELAY_MS exactly; the connections
-- then fall into step and arrive as one burst every WRK_DELAY_MS, so the tail is the
-- time to drain a burst of all the connections (their count × the CPU per request).
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "25")
local step = os.getenv("WRK_PACED_GAPS") == "step"
dofile(os.getenv("WRK_REPORT_LUA"))
function delay()
  if step then return delay_ms end
  return math.random(0, 2 * delay_ms)
end
