-- The purchase scenario at a set pace instead of closed-loop saturation: every connection thinks
-- for ENCORE_BENCH_DELAY_MS (default 50) on average between requests, so 64 connections offer
-- about 64 / (0.05 s + latency) ≈ 1,200 purchases/s. Its p99 is the latency a till sees at that
-- rate (closed-loop p99 is latency at saturation, see /work/shared/PERF-NOTES.md).
--
-- ENCORE_BENCH_THINK picks the think time:
--   exponential (default): drawn from an exponential distribution with that mean (capped at ten
--     times it), so requests arrive about as a Poisson stream, as from independent tills;
--   fixed: exactly the mean. Group commit answers the requests of one batch together, so with a
--     fixed pause those connections come back together: the load turns into bursts of up to 64
--     requests every ~55 ms and p99 measures how long a burst takes to drain.
dofile((os.getenv("ENCORE_BENCH_LUA") or "bench/wrk") .. "/purchase.lua")

local pause_ms = tonumber(os.getenv("ENCORE_BENCH_DELAY_MS") or "50")
local think = os.getenv("ENCORE_BENCH_THINK") or "exponential"
assert(think == "exponential" or think == "fixed", "ENCORE_BENCH_THINK: exponential or fixed")

function delay()
  if think == "fixed" then
    return pause_ms
  end
  -- 1 - U is in (0, 1], so the log is finite.
  local ms = -pause_ms * math.log(1 - math.random())
  return math.floor(math.min(ms, 10 * pause_ms))
end
