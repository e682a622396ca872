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

return M
