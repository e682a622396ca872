-- The purchase scenario at a fixed pace instead of closed-loop saturation: every connection waits
-- ENCORE_BENCH_DELAY_MS (default 50) between requests, so 64 connections offer about
-- 64 / (0.05 s + latency) ≈ 1,200 purchases/s. Its p99 is the latency a till sees at that rate
-- (closed-loop p99 is latency at saturation, see /work/shared/PERF-NOTES.md).
dofile((os.getenv("ENCORE_BENCH_LUA") or "bench/wrk") .. "/purchase.lua")

local pause_ms = tonumber(os.getenv("ENCORE_BENCH_DELAY_MS") or "50")

function delay()
  return pause_ms
end
