// Reminder routes (SPEC 7): plan now and dispatch, the dry-run plan, the outbox and the
// conversion report. Admin only. `dispatcher` is null when the program has no reminders.
#pragma once

#include "api/handler_support.h"
#include "api/reminder_dispatcher.h"
#include "api/report_runner.h"
#include "api/router.h"

namespace encore::api {

// The dry-run plan, a scan over every member, runs on `runner`'s thread like a report.
void add_reminder_routes(Router& router, Services& services, ReminderDispatcher* dispatcher,
                         ReportRunner& runner);

}  // namespace encore::api
