-- GET /v1/members/{id}/entries (one page) for a random member: always a reader connection.
-- The requests are formatted once, in init(): formatting one per request in Lua cost wrk about
-- 4 µs of CPU per request on the 2 cores it shares with the server, which showed up as a lower
-- ratio to the no-op route (a static request) without being server work.
package.path = (os.getenv("ENCORE_BENCH_LUA") or "bench/wrk") .. "/?.lua;" .. package.path
local common = require("common")

setup = common.setup

-- Each thread reads every member once, in its own random order, then starts over.
local pool = {}
local pool_size = common.members
local next_request = 0

function init(args)
  math.randomseed(os.time() * 1000 + (thread_id or 0))
  local order = {}
  for i = 1, pool_size do order[i] = i - 1 end
  for i = pool_size, 2, -1 do
    local j = math.random(1, i)
    order[i], order[j] = order[j], order[i]
  end
  local headers = {["Authorization"] = "Bearer " .. common.key}
  for i = 1, pool_size do
    pool[i] = wrk.format("GET", "/v1/members/" .. common.member_id(order[i]) .. "/entries?limit=10", headers)
  end
end

function request()
  next_request = next_request % pool_size + 1
  return pool[next_request]
end
