-- POST /v1/purchases: durable writes with unique order ids (run tag, wrk thread, counter) and the
-- order id as Idempotency-Key, on members drawn uniformly from the seeded population.
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
  local order = string.format("o-%s-%d-%d", tag, thread_id or 0, counter)
  local member = common.member_id(math.random(0, common.members - 1))
  local amount = math.random(100, 20000)
  local body = string.format(
    '{"member_id":"%s","order_id":"%s","amount_minor":%d,"currency":"EUR"}', member, order, amount)
  return wrk.format("POST", "/v1/purchases", {
    ["Authorization"] = "Bearer " .. common.key,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = order,
  }, body)
end
