-- POST /v1/redemptions of 1 point on 5 "hot" members with large balances (seeded as h0..h4):
-- every write of a batch touches the same few member rows and lots.
package.path = (os.getenv("ENCORE_BENCH_LUA") or "bench/wrk") .. "/?.lua;" .. package.path
local common = require("common")

setup = common.setup

local tag, counter

function init(args)
  tag = args[1] or tostring(os.time())
  counter = 0
  math.randomseed(os.time() * 1000 + (thread_id or 0))
end

function request()
  counter = counter + 1
  local idem = string.format("r-%s-%d-%d", tag, thread_id or 0, counter)
  local member = "h" .. tostring(math.random(0, 4))
  local body = string.format('{"member_id":"%s","points":1}', member)
  return wrk.format("POST", "/v1/redemptions", {
    ["Authorization"] = "Bearer " .. common.key,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = idem,
  }, body)
end
