-- GET /v1/members/{id}/entries (one page of 10) for a random member: never answered by the member
-- cache, always a reader connection (bench/mixed-load.sh).
package.path = (os.getenv("ENCORE_BENCH_LUA") or "bench/wrk") .. "/?.lua;" .. package.path
local common = require("common")

setup = common.setup
init, request = common.member_reads("/entries?limit=10")
