-- GET /v1/members/{id}/balance for a random member among the seeded population.
package.path = (os.getenv("ENCORE_BENCH_LUA") or "bench/wrk") .. "/?.lua;" .. package.path
local common = require("common")

setup = common.setup

local headers

function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0))
  headers = {["Authorization"] = "Bearer " .. common.key}
end

function request()
  local member = common.member_id(math.random(0, common.members - 1))
  return wrk.format("GET", "/v1/members/" .. member .. "/balance", headers)
end
