// GET /v1/reports/liability|repeat-purchase|rfm (SPEC 8, docs/reports.md): admin only, computed
// on the ReportRunner's thread from one read snapshot.
#pragma once

#include "api/handler_support.h"
#include "api/report_runner.h"
#include "api/router.h"
#include "ledger/report_store.h"

namespace encore::api {

void add_report_routes(Router& router, Services& services, ReportRunner& runner);

// Computes a JSON body from one read snapshot on the runner's thread (never an I/O thread) and
// answers 200 with it; 503 when the runner's queue is full or the server is stopping (a compute
// that throws ReportStopped because `keep_going` said so), 500 when it fails.
using ReportCompute = std::function<nlohmann::json(Store&, const KeepGoing& keep_going)>;
void run_report(Services& s, ReportRunner& runner, const Respond& respond, ReportCompute compute);

}  // namespace encore::api
