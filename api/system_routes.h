// Routes outside the business API: liveness and a benchmark baseline.
#pragma once

#include "api/router.h"

namespace encore::api {

// GET /healthz -> 200 {"status":"ok"} (no auth; the database check is added with the store).
// GET /v1/noop -> 200 {"ok":true}: does no work, the baseline that benchmarks compare routes to.
void add_system_routes(Router& router);

}  // namespace encore::api
