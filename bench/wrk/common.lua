-- Shared by the Encore wrk scenarios: the API key comes from the ENCORE_BENCH_KEY environment
-- variable, a run tag (first script argument) keeps ids unique across repeated runs on one db.
local M = {}

M.key = os.getenv("ENCORE_BENCH_KEY") or ""
M.members = tonumber(os.getenv("ENCORE_BENCH_MEMBERS") or "100000")

function M.member_id(n)
  return string.format("m%06d", n)
end

-- Each wrk thread gets its own id (setup runs in the main Lua state, once per thread).
local next_thread = 0
function M.setup(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

-- GETs of /v1/members/{id}<suffix> for every seeded member, each thread in its own random
-- order, starting over at the end. Returns the scenario's init and request functions. The
-- requests are formatted once, in init(): formatting one per request in Lua cost wrk about 4 µs
-- of CPU per request on the 2 cores it shares with the server, which showed up as a lower ratio
-- to the no-op route (a static request) without being server work.
function M.member_reads(suffix)
  local pool = {}
  local next_request = 0
  local function init(args)
    math.randomseed(os.time() * 1000 + (thread_id or 0))
    local order = {}
    for i = 1, M.members do order[i] = i - 1 end
    for i = M.members, 2, -1 do
      local j = math.random(1, i)
      order[i], order[j] = order[j], order[i]
    end
    local headers = {["Authorization"] = "Bearer " .. M.key}
    for i = 1, M.members do
      pool[i] = wrk.format("GET", "/v1/members/" .. M.member_id(order[i]) .. suffix, headers)
    end
  end
  local function request()
    next_request = next_request % M.members + 1
    return pool[next_request]
  end
  return init, request
end

return M
