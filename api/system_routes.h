// Routes outside the business API: liveness and a benchmark baseline.
#pragma once

#include <functional>

#include "api/router.h"

namespace encore::api {

// GET /healthz -> 200 {"status":"ok"} (no auth), or 503 when `database_ok` says the database
// cannot be read or written (a failed WAL sync stops writes: api/write_queue.h). GET /v1/noop ->
// 200 {"ok":true}: does no work, the baseline that benchmarks compare routes to.
void add_system_routes(Router& router, std::function<bool()> database_ok = {});

}  // namespace encore::api
