-- GET /v1/members/{id}/balance for a random member among the seeded population (each thread reads
-- every member once, in its own random order, then starts over).
package.path = (os.getenv("ENCORE_BENCH_LUA") or "bench/wrk") .. "/?.lua;" .. package.path
local common = require("common")

setup = common.setup
init, request = common.member_reads("/balance")
