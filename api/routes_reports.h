// GET /v1/reports/liability|repeat-purchase|rfm (SPEC 8, docs/reports.md): admin only, computed
// on the ReportRunner's thread from one read snapshot.
#pragma once

#include "api/handler_support.h"
#include "api/report_runner.h"
#include "api/router.h"

namespace encore::api {

void add_report_routes(Router& router, Services& services, ReportRunner& runner);

}  // namespace encore::api
